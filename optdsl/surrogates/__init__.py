"""Trained networks used inside models (`surrogate phi := torch "file";`, LANGUAGE.md 5.3).

`formats` recognizes a file's format from its bytes without importing torch; `load` turns a file
or a Python object into a `Surrogate` (torch imported there only). Loading never unpickles code:
exported programs go through `torch.export.load`, TorchScript through `torch.jit.load`, state
dicts through `torch.load(weights_only=True)`, ONNX through onnxruntime.
"""
