"""Load a surrogate network from a file or wrap a Python object; torch is imported here only.

Every surrogate becomes a `Surrogate`: a map from a batch of inputs (B x n_in, float64) to a batch
of outputs (B x n_out, float64), differentiable by autograd when it is a torch program. Files are
read without unpickling code (see `formats`): a state dict needs a declared architecture, either
a `torch.nn.Module` passed from Python or a JSON file beside the weights (`net.pt` -> `net.json`):
    {"architecture": "mlp", "sizes": [4, 32, 32, 2], "activation": "tanh", "output": "identity"}
"""

from __future__ import annotations

import json
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from optdsl.errors import ModelError
from optdsl.surrogates import formats

F64 = torch.float64
ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU,
               "softplus": torch.nn.Softplus, "silu": torch.nn.SiLU, "elu": torch.nn.ELU}
OUTPUTS = {"identity": None, "softmax": lambda: torch.nn.Softmax(dim=-1), "sigmoid": torch.nn.Sigmoid}


class Surrogate:
    """A network y = phi(u) on batches. `differentiable` is False for ONNX and numpy callables
    (values only: the attack then falls back to finite differences)."""

    def __init__(self, name: str, kind: str, fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 np_fn: Callable[[np.ndarray], np.ndarray] | None = None, module: Any = None,
                 n_in: int | None = None, n_out: int | None = None, batched: bool | None = None,
                 sample_shape: tuple[int, ...] | None = None, dtype: torch.dtype | None = None) -> None:
        self.name, self.kind = name, kind
        self._fn, self._np_fn, self.module = fn, np_fn, module
        self.n_in, self.n_out = n_in, n_out
        self.batched = batched  # None: found out on the first call
        self.sample_shape = sample_shape  # the input shape of a program exported without a batch dimension
        self.dtype = dtype or _module_dtype(module)
        self.device = torch.device("cpu")

    @property
    def differentiable(self) -> bool:
        return self._fn is not None

    def to(self, device: torch.device | str) -> Surrogate:
        device = torch.device(device)
        if self.module is not None and device != self.device:
            if self.kind == formats.EXPORTED:
                self._fn = _exported_on(self.module, device)
            else:
                self.module.to(device)
        self.device = device
        return self

    # -------------------------------------------------------------------------------- calls
    def __call__(self, U: torch.Tensor) -> torch.Tensor:
        """(B, n_in) -> (B, n_out) in float64 on the surrogate's device."""
        if self._fn is None:
            out = self._np_fn(U.detach().cpu().numpy())
            return torch.as_tensor(np.asarray(out, dtype=np.float64), device=U.device).reshape(U.shape[0], -1)
        u = U.to(device=self.device, dtype=self.dtype)
        if self.batched is None:
            self.batched = self._try_batched(u)
        if self.batched:
            y = self._fn(u)
        else:
            shape = self.sample_shape or (u.shape[1],)
            y = torch.stack([self._fn(row.reshape(shape)).reshape(-1) for row in u])
        return _as_output(y, U.shape[0]).to(device=U.device, dtype=F64)

    def numpy(self, U: np.ndarray) -> np.ndarray:
        """Values only, (B, n_in) -> (B, n_out)."""
        if self._fn is None:
            return np.asarray(self._np_fn(np.asarray(U, dtype=np.float64)), dtype=np.float64).reshape(len(U), -1)
        with torch.no_grad():
            return self(torch.as_tensor(np.asarray(U, dtype=np.float64), device=self.device)).cpu().numpy()

    def _try_batched(self, u: torch.Tensor) -> bool:
        if self.sample_shape is not None and self.sample_shape != (u.shape[1],) and len(self.sample_shape) != 2:
            return False
        try:
            with torch.no_grad():
                y = self._fn(u[:2] if u.shape[0] >= 2 else torch.cat([u, u]))
            return y.ndim >= 1 and y.shape[0] == 2
        except Exception:  # a program traced for one fixed sample shape
            return False

    def check_sizes(self, n_in: int) -> int:
        """Check that the network takes `n_in` inputs; return its number of outputs."""
        if self.n_in is not None and self.n_in != n_in:
            raise ModelError(f"surrogate '{self.name}' takes {self.n_in} inputs but is called with {n_in}")
        try:
            y = self.numpy(np.zeros((1, n_in)))
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"surrogate '{self.name}' fails on {n_in} inputs: {type(exc).__name__}: {exc}",
                             hint="check the input size the network was trained for") from exc
        n_out = int(y.shape[1])
        if self.n_out is not None and self.n_out != n_out:
            raise ModelError(f"surrogate '{self.name}' is declared with {self.n_out} outputs but returns {n_out}")
        self.n_in, self.n_out = n_in, n_out
        return n_out


def _as_output(y: Any, batch: int) -> torch.Tensor:
    if isinstance(y, (tuple, list)):
        y = y[0]
    if not isinstance(y, torch.Tensor):
        raise ModelError(f"a surrogate returned {type(y).__name__}, not a tensor")
    return y.reshape(batch, -1)


def _module_dtype(module: Any) -> torch.dtype:
    if isinstance(module, torch.nn.Module):
        for t in list(module.parameters()) + list(module.buffers()):
            if t.is_floating_point():
                return t.dtype
    if isinstance(module, torch.export.ExportedProgram):
        for t in module.state_dict.values():
            if isinstance(t, torch.Tensor) and t.is_floating_point():
                return t.dtype
    return torch.float32


def _exported_on(ep: Any, device: torch.device) -> Callable:
    try:
        from torch.export.passes import move_to_device_pass

        return move_to_device_pass(ep, device).module()
    except ImportError:  # older torch: move the unlifted module
        return ep.module().to(device)


# ------------------------------------------------------------------------------------ files
def load_file(name: str, path: str, base_dir: str | Path | None = None, architecture: Any = None,
              max_bytes: int = formats.MAX_BYTES) -> Surrogate:
    """The surrogate in file `path` (relative to `base_dir`, the model file's folder)."""
    p = formats.resolve_path(path, base_dir)
    formats.check_file(p, name, max_bytes)
    kind = formats.detect(p)
    if kind == formats.EXPORTED:
        return _load_exported(name, p)
    if kind == formats.TORCHSCRIPT:
        try:
            with warnings.catch_warnings():  # deprecated in favour of torch.export, still supported
                warnings.simplefilter("ignore", DeprecationWarning)
                module = torch.jit.load(str(p), map_location="cpu").eval()
        except Exception as exc:
            raise ModelError(f"surrogate '{name}': '{p}' is not a loadable TorchScript archive ({exc})") from exc
        return Surrogate(name, kind, fn=module, module=module)
    if kind == formats.ONNX:
        return _load_onnx(name, p)
    return _load_state_dict(name, p, architecture)


def _load_exported(name: str, p: Path) -> Surrogate:
    try:
        ep = torch.export.load(str(p))
    except Exception as exc:
        raise ModelError(f"surrogate '{name}': '{p}' is not a loadable exported program ({exc})",
                         hint="write it with torch.export.save; load it with the torch version that wrote it") from exc
    shapes = [n.meta.get("val") for n in ep.graph.nodes
              if n.op == "placeholder" and n.name in ep.graph_signature.user_inputs]
    if len(shapes) != 1 or not hasattr(shapes[0], "shape"):
        raise ModelError(f"surrogate '{name}': the exported program takes {len(shapes)} inputs; "
                         "it must take one tensor")
    shape = tuple(shapes[0].shape)
    fixed = all(isinstance(s, int) for s in shape)
    sample = tuple(int(s) for s in shape) if fixed else None
    batched = None
    n_in = None
    if len(shape) == 2 and not isinstance(shape[0], int) and isinstance(shape[1], int):
        batched, n_in = True, int(shape[1])
    elif fixed:
        n_in = int(np.prod(shape[1:])) if len(shape) == 2 and shape[0] == 1 else int(np.prod(shape))
        batched = False
        sample = shape
    return Surrogate(name, formats.EXPORTED, fn=ep.module(), module=ep, n_in=n_in, batched=batched,
                     sample_shape=sample)


def _load_onnx(name: str, p: Path) -> Surrogate:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelError(f"surrogate '{name}': '{p}' is an ONNX file and onnxruntime is not installed",
                         hint="pip install 'optdsl[onnx]', or export the network with torch.export") from exc
    try:
        sess = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(f"surrogate '{name}': onnxruntime cannot open '{p}' ({exc})") from exc
    inp = sess.get_inputs()
    if len(inp) != 1:
        raise ModelError(f"surrogate '{name}': the ONNX model takes {len(inp)} inputs; it must take one")
    shape = inp[0].shape
    dtype = np.float64 if "double" in inp[0].type else np.float32
    batched = len(shape) == 2 and not isinstance(shape[0], int)
    n_in = shape[-1] if isinstance(shape[-1], int) else None
    in_name = inp[0].name

    def run(U: np.ndarray) -> np.ndarray:
        U = U.astype(dtype)
        if batched:
            return sess.run(None, {in_name: U})[0].reshape(len(U), -1)
        rows = [sess.run(None, {in_name: u.reshape([d if isinstance(d, int) else 1 for d in shape])})[0]
                for u in U]
        return np.stack([r.reshape(-1) for r in rows])

    return Surrogate(name, formats.ONNX, np_fn=run, n_in=n_in)


def _load_state_dict(name: str, p: Path, architecture: Any) -> Surrogate:
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before it refuses
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(str(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()
        why = next((ln for ln in first if "GLOBAL" in ln or "Unsupported" in ln), first[0] if first else "")
        raise ModelError(
            f"surrogate '{name}': '{p}' holds pickled Python objects, which optdsl never loads ({why.strip()})",
            hint="ship the network as an exported program: torch.export.save(torch.export.export(net, (x,)), "
                 "'net.pt2'), or save only its state_dict and declare the architecture") from exc
    except Exception as exc:
        raise ModelError(f"surrogate '{name}': '{p}' is not a torch file ({type(exc).__name__}: {exc})") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"surrogate '{name}': '{p}' is not a state dict (a mapping of names to tensors)",
                         hint="ship the network as an exported program (.pt2)")
    module = architecture if isinstance(architecture, torch.nn.Module) else None
    if module is None:
        module = _declared_architecture(name, p)
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelError(f"surrogate '{name}': the weights in '{p}' do not fit the declared architecture ({exc})") \
            from exc
    module.eval()
    return Surrogate(name, formats.STATE_DICT, fn=module, module=module)


def _declared_architecture(name: str, p: Path) -> torch.nn.Module:
    spec_path = p.with_suffix(".json")
    if not spec_path.is_file():
        raise ModelError(f"surrogate '{name}': '{p}' holds only weights and no architecture is declared",
                         hint=f"write {spec_path.name} beside it, e.g. "
                              '{"architecture": "mlp", "sizes": [4, 32, 2], "activation": "tanh"}, '
                              "or pass the module from Python")
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"surrogate '{name}': cannot read the architecture '{spec_path}' ({exc})") from exc
    return mlp_from_spec(spec, f"surrogate '{name}' ({spec_path.name})")


def mlp_from_spec(spec: dict, what: str = "architecture") -> torch.nn.Module:
    """nn.Sequential(Linear, act, Linear, ..., [output]) from {"sizes", "activation", "output"}; its
    state-dict keys ("0.weight", "2.weight", ...) are those of the same Sequential built in Python."""
    if not isinstance(spec, dict) or spec.get("architecture", "mlp") != "mlp":
        raise ModelError(f"{what}: only 'mlp' architectures can be declared in JSON")
    sizes = spec.get("sizes")
    if not isinstance(sizes, list) or len(sizes) < 2 or not all(isinstance(s, int) and s > 0 for s in sizes):
        raise ModelError(f"{what}: 'sizes' must list at least two positive layer widths")
    act = spec.get("activation", "relu")
    if act not in ACTIVATIONS:
        raise ModelError(f"{what}: unknown activation '{act}'", hint="one of " + ", ".join(ACTIVATIONS))
    out = spec.get("output", "identity")
    if out not in OUTPUTS:
        raise ModelError(f"{what}: unknown output '{out}'", hint="one of " + ", ".join(OUTPUTS))
    layers: list[torch.nn.Module] = []
    for k in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2:
            layers.append(ACTIVATIONS[act]())
    if OUTPUTS[out] is not None:
        layers.append(OUTPUTS[out]())
    return torch.nn.Sequential(*layers)


# ------------------------------------------------------------------------------------ objects
def wrap_object(name: str, obj: Any, n_in: int | None = None, n_out: int | None = None,
                differentiable: bool | None = None) -> Surrogate:
    """A Python surrogate: a torch.nn.Module (or an ExportedProgram), or a callable. A callable is
    called with torch tensors when `differentiable` (autograd flows through it), else with numpy
    arrays; either way with a batch (B x n_in) and it returns (B x n_out)."""
    if isinstance(obj, torch.export.ExportedProgram):
        return Surrogate(name, formats.EXPORTED, fn=obj.module(), module=obj, n_in=n_in, n_out=n_out)
    if isinstance(obj, torch.nn.Module):
        return Surrogate(name, "module", fn=obj, module=obj, n_in=n_in, n_out=n_out, batched=True)
    if not callable(obj):
        raise ModelError(f"surrogate '{name}': {type(obj).__name__} is neither a torch module nor a callable")
    if differentiable:
        return Surrogate(name, "callable", fn=obj, n_in=n_in, n_out=n_out, batched=True, dtype=F64)
    return Surrogate(name, "callable", np_fn=obj, n_in=n_in, n_out=n_out)


def load_declared(name: str, data: dict, ir: Any) -> Any:
    """The network a `surrogate` declaration (or a Python object) names, for model `ir`."""
    if data.get("_object") is not None:
        return wrap_object(name, data["_object"], n_in=data.get("_n_in"), n_out=data.get("_n_out"),
                           differentiable=data.get("_differentiable"))
    base = data.get("_base_dir")
    if base is None:
        source = Path(str(data.get("file") or ir.name))
        base = source.parent if source.suffix in (".opt", ".mod") else Path.cwd()
    return load_file(name, str(data["path"]), base_dir=base, architecture=data.get("_architecture"))
