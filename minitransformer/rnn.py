"""Recurrent networks from scratch: the Elman cell, a stacked RNN, and gradients through time.

Read top to bottom: :class:`RNNCell` is one time step (Elman 1990), :class:`RNN` runs stacked
cells over a sequence with an explicit loop over time steps (the sequential dependence that
chapter 2 measures), and :func:`gradient_norms_through_time` measures how the gradient of a
loss at the last step shrinks or grows as it travels back to earlier hidden states (chapter 3,
Bengio et al. 1994; Pascanu et al. 2013).

Parameter names follow PyTorch: a cell holds ``weight_ih``, ``weight_hh``, ``bias_ih``,
``bias_hh`` exactly as ``nn.RNNCell`` does, and :meth:`RNN.from_torch` copies ``nn.RNN``'s
``weight_ih_l{k}`` ... into cell ``k``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import torch
from torch import nn

from ._validation import check_choice, check_int, check_tensor, describe

__all__ = ["RNN", "RNNCell", "gradient_norms_through_time"]

_NONLINEARITIES = ("tanh", "relu", "linear")


def _activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if name == "tanh":
        return torch.tanh
    if name == "relu":
        return torch.relu
    return lambda z: z


class RNNCell(nn.Module):
    """One step of an Elman recurrent network (Elman 1990), as ``nn.RNNCell`` computes it:

    .. math:: h_t = \\phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})

    Args:
        input_size: features per time step, ``I``.
        hidden_size: size of the hidden state, ``H``.
        bias: whether to add ``b_ih`` and ``b_hh``.
        nonlinearity: ``"tanh"`` (default), ``"relu"`` (both as in PyTorch) or ``"linear"``
            (no squashing; chapter 3 uses it to see the product of Jacobians in its pure form).

    Weights are initialised like PyTorch's: uniform in ``[-1/sqrt(H), 1/sqrt(H)]``. The
    nonlinearity is kept as the function ``phi``.

    Shape:
        - x: ``(B, I)``, one time step of a batch of ``B`` sequences.
        - h: ``(B, H)`` previous hidden state, or ``None`` for zeros.
        - output: ``(B, H)``, the new hidden state.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh") -> None:
        super().__init__()
        self.input_size = check_int("input_size", input_size, minimum=1)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, _NONLINEARITIES)
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {describe(bias)}")
        self.bias = bias
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))   # (H, I)
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))  # (H, H)
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.phi = _activation(self.nonlinearity)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every parameter uniform in ``[-1/sqrt(H), 1/sqrt(H)]``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def step(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The update without argument checks (for loops that already checked)."""
        z = x @ self.weight_ih.T + h @ self.weight_hh.T  # (B, H)
        if self.bias_ih is not None:
            z = z + self.bias_ih + self.bias_hh
        return self.phi(z)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One time step: ``h' = φ(x W_ih^T + b_ih + h W_hh^T + b_hh)``, φ set by ``nonlinearity``.

        Shape:
            x: ``(B, I)`` the inputs of one step; h: ``(B, H)`` the previous hidden state
            (zeros if None); output: ``(B, H)`` the new hidden state.
        """
        check_tensor("x", x, shape=("B", self.input_size), dtype="float")
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        else:
            check_tensor("h", h, shape=(x.shape[0], self.hidden_size), dtype="float")
        return self.step(x, h)

    @classmethod
    def from_torch(cls, module: nn.RNNCell) -> RNNCell:
        """A cell with the weights of ``module`` (an ``nn.RNNCell``), on its device and dtype."""
        if not isinstance(module, nn.RNNCell):
            raise TypeError(f"module must be a torch.nn.RNNCell, got {type(module).__name__}")
        cell = cls(module.input_size, module.hidden_size, bias=module.bias,
                   nonlinearity=module.nonlinearity)
        cell.to(device=module.weight_ih.device, dtype=module.weight_ih.dtype)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                if getattr(cell, name) is not None:
                    getattr(cell, name).copy_(getattr(module, name))
        return cell

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, bias={self.bias}, "
                f"nonlinearity={self.nonlinearity!r}")


class RNN(nn.Module):
    """A stack of :class:`RNNCell` run over a sequence, batch first, like
    ``nn.RNN(..., batch_first=True)``.

    The loop over time steps is explicit: step ``t`` needs the hidden state of step ``t - 1``,
    so the ``T`` steps run one after the other however many cores there are. Layer ``k + 1``
    reads the hidden states of layer ``k`` as its input sequence.

    Args:
        input_size: features per time step, ``I``.
        hidden_size: hidden state size, ``H`` (the same in every layer).
        num_layers: number of stacked cells, ``L``.
        nonlinearity: ``"tanh"``, ``"relu"`` or ``"linear"`` (see :class:`RNNCell`).
        bias: whether the cells have biases.

    Shape:
        - x: ``(B, T, I)``: ``B`` sequences of ``T`` steps of ``I`` features (floating point).
        - h0: ``(L, B, H)`` initial hidden states, or ``None`` for zeros.
        - output ``out``: ``(B, T, H)``, the last layer's hidden state at every step.
        - output ``h_n``: ``(L, B, H)``, every layer's hidden state after the last step.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True) -> None:
        super().__init__()
        self.input_size = check_int("input_size", input_size, minimum=1)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        self.num_layers = check_int("num_layers", num_layers, minimum=1)
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, _NONLINEARITIES)
        self.cells = nn.ModuleList(
            RNNCell(input_size if k == 0 else hidden_size, hidden_size, bias=bias,
                    nonlinearity=nonlinearity)
            for k in range(num_layers))

    def forward(self, x: torch.Tensor,
                h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the whole sequence through every layer, one time step after another.

        Shape:
            x: ``(B, T, I)``, B sequences of T steps with I features; h0: ``(L, B, H)``
            the initial state of each of the L layers (zeros if None). Returns ``out``
            ``(B, T, H)`` (the last layer's state at every step) and ``h_n``
            ``(L, B, H)`` (every layer's state after step T), as ``torch.nn.RNN`` with
            ``batch_first=True``.
        """
        check_tensor("x", x, shape=("B", "T", self.input_size), dtype="float")
        batch, length = x.shape[0], x.shape[1]
        if length == 0:
            raise ValueError("x must have at least one time step, got T = 0")
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, batch, self.hidden_size)
        else:
            check_tensor("h0", h0, shape=(self.num_layers, batch, self.hidden_size),
                         dtype="float")
        layer_input = x                          # (B, T, I) for layer 0, then (B, T, H)
        last_states = []
        for k, cell in enumerate(cast("list[RNNCell]", self.cells)):
            # The input's share of a step does not depend on h: one product for
            # all T steps. Only h W_hh^T waits for the step before (as in cuDNN).
            xw = layer_input @ cell.weight_ih.T          # (B, T, H)
            if cell.bias_ih is not None:
                xw = xw + (cell.bias_ih + cell.bias_hh)
            h = h0[k]                                    # (B, H)
            outputs = []
            for xw_t in xw.unbind(dim=1):                # step t needs step t - 1
                h = cell.phi(xw_t + h @ cell.weight_hh.T)  # (B, H)
                outputs.append(h)
            layer_input = torch.stack(outputs, dim=1)  # (B, T, H)
            last_states.append(h)
        return layer_input, torch.stack(last_states, dim=0)  # (B, T, H), (L, B, H)

    @classmethod
    def from_torch(cls, module: nn.RNN) -> RNN:
        """An :class:`RNN` with the weights of ``module``, an ``nn.RNN`` built with
        ``batch_first=True``. Bidirectional RNNs, projections and dropout between layers are
        not supported and raise ``ValueError``."""
        if not isinstance(module, nn.RNN):
            raise TypeError(f"module must be a torch.nn.RNN, got {type(module).__name__}")
        if not module.batch_first:
            raise ValueError("module must be built with batch_first=True (this package is "
                             "batch first), got batch_first=False")
        if module.bidirectional:
            raise ValueError("module must not be bidirectional, got bidirectional=True")
        if module.dropout:
            raise ValueError(f"module must have dropout=0, got dropout={module.dropout}")
        if getattr(module, "proj_size", 0):
            raise ValueError(f"module must have proj_size=0, got {module.proj_size}")
        ours = cls(module.input_size, module.hidden_size, module.num_layers,
                   nonlinearity=module.nonlinearity, bias=module.bias)
        weight = next(module.parameters())
        ours.to(device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            for k, cell in enumerate(ours.cells):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    if getattr(cell, name) is not None:
                        getattr(cell, name).copy_(getattr(module, f"{name}_l{k}"))
        return ours

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"nonlinearity={self.nonlinearity!r}")


def _hidden(state: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor:
    return state[0] if isinstance(state, tuple) else state


def gradient_norms_through_time(
    layer: nn.Module,
    x: torch.Tensor,
    h0: torch.Tensor | tuple[torch.Tensor, ...] | None = None,
    loss_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """How strongly a loss at the last step depends on the hidden state of every earlier step.

    Runs ``layer`` one time step at a time, feeding each step's final state into the next, and
    returns ``||dL/dh_t||`` for every ``t``: the norm (over layers and hidden units, averaged
    over the batch) of the gradient of ``L = loss_fn(h_T)``, ``h_T`` the last layer's final
    hidden state (equal to ``out[:, -1]``), with respect to the hidden
    state after step ``t``. By the chain rule ``dL/dh_t = dL/dh_T · J_T ⋯ J_{t+1}``, a
    product of ``T - t`` Jacobians, so the curve shows whether that product vanishes or
    explodes with distance (Bengio et al. 1994; Pascanu et al. 2013, section 2).

    Works with any recurrent layer that takes ``(x, state)`` and returns ``(out, state)``
    batch first: :class:`RNN`, ``nn.RNN``/``nn.LSTM`` with ``batch_first=True`` and the
    package's LSTM. For an LSTM's ``(h, c)`` state the gradient with respect to ``h`` is
    measured.

    Args:
        layer: the recurrent layer.
        x: the input sequence ``(B, T, I)``.
        h0: the initial state (what ``layer`` accepts), or ``None``.
        loss_fn: maps the last layer's final hidden state ``(B, H)`` to a scalar; default:
            its sum.

    Returns:
        A tensor of shape ``(T,)``: entry ``t`` is the gradient norm at the state after step
        ``t`` (0-based); the last entry is the norm of ``dL/dh_T`` itself. The distance from the
        loss is ``T - 1 - t``.
    """
    if not isinstance(layer, nn.Module):
        raise TypeError(f"layer must be a torch.nn.Module, got {type(layer).__name__}")
    check_tensor("x", x, shape=("B", "T", None), dtype="float")
    if x.shape[1] == 0:
        raise ValueError("x must have at least one time step, got T = 0")
    if loss_fn is None:
        def loss_fn(y: torch.Tensor) -> torch.Tensor:
            return y.sum()
    elif not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    state = h0
    hidden_states = []
    with torch.enable_grad():
        for t in range(x.shape[1]):
            _, state = layer(x[:, t:t + 1], state)
            hidden_states.append(_hidden(state))     # (L, B, H)
        loss = loss_fn(hidden_states[-1][-1])        # from h_T of the last layer, (B, H)
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            raise ValueError(f"loss_fn must return a scalar tensor, got {describe(loss)}")
        grads = torch.autograd.grad(loss, hidden_states, allow_unused=True)
    norms = []
    for g, h in zip(grads, hidden_states):
        if g is None:
            g = torch.zeros_like(h)
        norms.append(g.detach().pow(2).sum(dim=(0, 2)).sqrt().mean())  # per-sample, averaged
    return torch.stack(norms)
