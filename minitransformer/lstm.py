"""Long short-term memory: the cell step by step, then a fast multi-layer LSTM.

The LSTM of Hochreiter and Schmidhuber (1997) with the forget gate of Gers, Schmidhuber and
Cummins (2000), in PyTorch's formulation (the ``torch.nn.LSTM`` documentation's equations):

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      input gate
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)         candidate cell values
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)      output gate
    c_t = f_t * c_{t-1} + i_t * g_t                           cell state (additive update)
    h_t = o_t * tanh(c_t)                                     hidden state

The four gates' weights are stacked in PyTorch's order (i, f, g, o) into ``weight_ih``
``(4H, I)`` and ``weight_hh`` ``(4H, H)``, with PyTorch's parameter names, so ``from_torch``
is a plain copy.

Read top to bottom: :func:`lstm_cell_step` is the equations above, one gate at a time;
:class:`LSTMCell` wraps it as a module; :class:`LSTM` stacks layers and runs them with the
fast formulation (all gates in one matrix product, every time step's input projection in one
big product before the loop). :meth:`LSTM.forward_stepwise` runs the same weights through
:func:`lstm_cell_step`, so the two can be compared.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._validation import check_float, check_int, check_tensor, describe

__all__ = ["LSTM", "LSTMCell", "lstm_cell_step"]


def lstm_cell_step(
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor | None = None,
    bias_hh: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM time step, gate by gate as in the equations (readable, not fast).

    Shape:
        x: ``(B, I)`` input at this step; h, c: ``(B, H)`` previous hidden and cell
        state; weight_ih: ``(4H, I)``; weight_hh: ``(4H, H)``; bias_ih, bias_hh:
        ``(4H,)`` or None. Returns ``(h_new, c_new)``, each ``(B, H)``.
    """
    W_ii, W_if, W_ig, W_io = weight_ih.chunk(4, dim=0)  # each (H, I)
    W_hi, W_hf, W_hg, W_ho = weight_hh.chunk(4, dim=0)  # each (H, H)
    if bias_ih is None or bias_hh is None:  # bias=False: PyTorch has both or neither
        bias_ih = bias_hh = weight_ih.new_zeros(weight_ih.shape[0])  # (4H,)
    b_i, b_f, b_g, b_o = (bias_ih + bias_hh).chunk(4)  # each (H,)
    i = torch.sigmoid(x @ W_ii.T + h @ W_hi.T + b_i)  # input gate, (B, H)
    f = torch.sigmoid(x @ W_if.T + h @ W_hf.T + b_f)  # forget gate, (B, H)
    g = torch.tanh(x @ W_ig.T + h @ W_hg.T + b_g)  # candidate values, (B, H)
    o = torch.sigmoid(x @ W_io.T + h @ W_ho.T + b_o)  # output gate, (B, H)
    c_new = f * c + i * g  # keep part of the old memory, write part of the new
    h_new = o * torch.tanh(c_new)  # expose part of the memory
    return h_new, c_new


def _init_uniform(params: list[nn.Parameter], hidden_size: int) -> None:
    """PyTorch's initialisation for recurrent layers: U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size)
    with torch.no_grad():
        for p in params:
            p.uniform_(-bound, bound)


def _check_float_input(name: str, x: torch.Tensor, dtype: torch.dtype) -> None:
    if x.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} (the module's parameters), got dtype {x.dtype}")


class LSTMCell(nn.Module):
    """One LSTM cell, applied to one time step (counterpart of ``torch.nn.LSTMCell``).

    Args:
        input_size: number of input features I.
        hidden_size: size H of the hidden and cell state.
        bias: whether to use the biases ``bias_ih`` and ``bias_hh``.

    Parameters (PyTorch's names and gate order i, f, g, o): ``weight_ih`` ``(4H, I)``,
    ``weight_hh`` ``(4H, H)``, ``bias_ih`` and ``bias_hh`` ``(4H,)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.input_size = check_int("input_size", input_size, minimum=1)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {describe(bias)}")
        self.bias = bias
        H = self.hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * H, self.input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * H))
            self.bias_hh = nn.Parameter(torch.empty(4 * H))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _init_uniform(list(self.parameters()), H)

    def forward(self, x: torch.Tensor,
                state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance the state by one step.

        Shape:
            x: ``(B, I)``; state: ``(h, c)`` each ``(B, H)``, zeros if None.
            Returns ``(h_new, c_new)``, each ``(B, H)``.
        """
        check_tensor("x", x, shape=("B", self.input_size), dtype="float")
        _check_float_input("x", x, self.weight_ih.dtype)
        B, H = x.shape[0], self.hidden_size
        if state is None:
            h = c = x.new_zeros(B, H)
        else:
            h, c = _check_state(state, (B, H), "(B, H)", x.dtype)
        return lstm_cell_step(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

    @classmethod
    def from_torch(cls, module: nn.LSTMCell) -> LSTMCell:
        """A cell with the weights of ``module`` (a ``torch.nn.LSTMCell``), copied."""
        if not isinstance(module, nn.LSTMCell):
            raise TypeError(f"module must be a torch.nn.LSTMCell, got {type(module).__name__}")
        cell = cls(module.input_size, module.hidden_size, bias=module.bias)
        cell = cell.to(dtype=module.weight_ih.dtype, device=module.weight_ih.device)
        cell.load_state_dict(module.state_dict())
        return cell

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


def _check_state(state: object, shape: tuple[int, ...], want: str,
                 dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Require ``state`` to be a pair ``(h, c)`` of float tensors of the given shape."""
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise TypeError(f"state must be a pair (h, c) of tensors of shape {want}, got {describe(state)}")
    for name, t in zip(("state[0] (h)", "state[1] (c)"), state, strict=True):
        check_tensor(name, t, shape=[None] * len(shape), dtype="float")
        if tuple(t.shape) != shape:
            raise ValueError(f"{name} must have shape {want} = {shape}, got shape {tuple(t.shape)}")
        if t.dtype != dtype:
            raise TypeError(f"{name} must have dtype {dtype} like x, got dtype {t.dtype}")
    return state[0], state[1]


class _LSTMLayer(torch.autograd.Function):
    """One LSTM layer over a whole sequence with backpropagation through time written by hand.

    Autograd would record about ten small operations per step and replay them backwards; this
    function runs the forward loop without recording, keeps the gate activations it needs,
    and computes the backward pass with the LSTM's derivatives directly (as chapter 1 did for
    the MLP). The recurrent weight's gradient is then one large matrix product over all steps.
    Gates are in the order (i, f, o, g) here, so one sigmoid covers the first three.

    Inputs: ``xw`` ``(T, B, 4H)`` every step's input projection plus biases; ``w_hh``
    ``(4H, H)``; ``h0``, ``c0`` ``(B, H)``. Outputs: ``hs`` ``(T, B, H)``, ``h_T``, ``c_T``.
    Checked against autograd with ``torch.autograd.gradcheck`` in the tests.
    """

    @staticmethod
    def forward(ctx, xw, w_hh, h0, c0):
        T, H = xw.shape[0], w_hh.shape[1]
        w_hh_t = w_hh.t()                                      # (H, 4H)
        hs = xw.new_empty(T + 1, *h0.shape)                    # (T+1, B, H): h0, h_1 .. h_T
        cs = xw.new_empty(T + 1, *c0.shape)                    # (T+1, B, H): c0, c_1 .. c_T
        ifo = xw.new_empty(T, h0.shape[0], 3 * H)              # (T, B, 3H) sigmoid gates
        g = xw.new_empty(T, *h0.shape)                         # (T, B, H) candidate values
        tanh_c = xw.new_empty(T, *h0.shape)                    # (T, B, H)
        hs[0], cs[0] = h0, c0
        for t in range(T):
            gates = torch.addmm(xw[t], hs[t], w_hh_t)          # (B, 4H): all gates at once
            torch.sigmoid(gates[:, :3 * H], out=ifo[t])
            torch.tanh(gates[:, 3 * H:], out=g[t])
            i, f, o = ifo[t].chunk(3, dim=1)                   # each (B, H)
            torch.addcmul(f * cs[t], i, g[t], out=cs[t + 1])   # c_t = f c_{t-1} + i g
            torch.tanh(cs[t + 1], out=tanh_c[t])
            torch.mul(o, tanh_c[t], out=hs[t + 1])             # h_t = o tanh(c_t)
        ctx.save_for_backward(w_hh, hs, cs, ifo, g, tanh_c)
        return hs[1:].clone(), hs[T].clone(), cs[T].clone()

    @staticmethod
    def backward(ctx, grad_hs, grad_h_last, grad_c_last):
        w_hh, hs, cs, ifo, g, tanh_c = ctx.saved_tensors
        T, H = ifo.shape[0], w_hh.shape[1]
        grad_hs = torch.zeros_like(hs[1:]) if grad_hs is None else grad_hs
        dh = torch.zeros_like(hs[0]) if grad_h_last is None else grad_h_last.clone()
        dc = torch.zeros_like(cs[0]) if grad_c_last is None else grad_c_last.clone()
        dgates = ifo.new_empty(T, ifo.shape[1], 4 * H)         # (T, B, 4H) d loss / d pre-activations
        for t in reversed(range(T)):
            dh = dh + grad_hs[t]                               # h_t feeds the output and step t+1
            i, f, o = ifo[t].chunk(3, dim=1)
            dc = dc + dh * o * (1 - tanh_c[t] ** 2)            # through h_t = o tanh(c_t)
            d_ifo = torch.cat([dc * g[t], dc * cs[t], dh * tanh_c[t]], dim=1)  # (B, 3H)
            torch.mul(d_ifo, ifo[t] * (1 - ifo[t]), out=dgates[t, :, :3 * H])  # sigmoid'
            torch.mul(dc * i, 1 - g[t] ** 2, out=dgates[t, :, 3 * H:])         # tanh'
            dc = dc * f                                        # c_{t-1} enters c_t times f
            dh = dgates[t] @ w_hh                              # (B, H): into h_{t-1}
        flat = dgates.reshape(-1, 4 * H)                       # (T*B, 4H)
        grad_w_hh = flat.t() @ hs[:-1].reshape(-1, H)          # (4H, H): one product for all steps
        return dgates, grad_w_hh, dh, dc


class LSTM(nn.Module):
    """A multi-layer LSTM over whole sequences, batch first (counterpart of
    ``torch.nn.LSTM(..., batch_first=True)``).

    Args:
        input_size: number of input features I.
        hidden_size: size H of each layer's hidden and cell state.
        num_layers: number L of stacked layers; layer l > 0 reads layer l-1's outputs.
        bias: whether to use the biases.

    Parameters, named as in ``torch.nn.LSTM``: for each layer ``k``, ``weight_ih_l{k}``
    ``(4H, I or H)``, ``weight_hh_l{k}`` ``(4H, H)``, ``bias_ih_l{k}``, ``bias_hh_l{k}``
    ``(4H,)``; gates stacked in the order i, f, g, o.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True) -> None:
        super().__init__()
        self.input_size = check_int("input_size", input_size, minimum=1)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        self.num_layers = check_int("num_layers", num_layers, minimum=1)
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {describe(bias)}")
        self.bias = bias
        H = self.hidden_size
        for k in range(self.num_layers):
            layer_input = self.input_size if k == 0 else H
            setattr(self, f"weight_ih_l{k}", nn.Parameter(torch.empty(4 * H, layer_input)))
            setattr(self, f"weight_hh_l{k}", nn.Parameter(torch.empty(4 * H, H)))
            if bias:
                setattr(self, f"bias_ih_l{k}", nn.Parameter(torch.empty(4 * H)))
                setattr(self, f"bias_hh_l{k}", nn.Parameter(torch.empty(4 * H)))
        _init_uniform(list(self.parameters()), H)

    def layer_weights(self, k: int) -> tuple[torch.Tensor, torch.Tensor,
                                             torch.Tensor | None, torch.Tensor | None]:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of layer ``k`` (biases None without bias)."""
        k = check_int("k", k, minimum=0, maximum=self.num_layers - 1)
        if self.bias:
            return (getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}"),
                    getattr(self, f"bias_ih_l{k}"), getattr(self, f"bias_hh_l{k}"))
        return getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}"), None, None

    def set_forget_bias(self, value: float = 1.0) -> LSTM:
        """Start every layer's forget gate at ``sigmoid(value)``: set its bias to ``value``.

        With PyTorch's initialisation the forget gate starts near ``sigmoid(0) = 0.5``, so the
        cell state halves at every step and a memory fades before training can make use of
        it. A positive bias keeps the memory open from the start: Gers, Schmidhuber and
        Cummins (2000), who introduced the forget gate, started it with positive biases, and
        Jozefowicz, Zaremba and Sutskever (2015) recommend 1. Chapter 4 measures 1, 2 and 3
        on its long-range task, where only 3 learned a 40-step memory in every seed tried. Sets the forget block of ``bias_ih_l{k}`` to
        ``value`` and that of ``bias_hh_l{k}`` to 0 (their sum is what the gate sees);
        returns the LSTM itself so it can be chained after the constructor.
        """
        value = check_float("value", value)
        if not self.bias:
            raise ValueError("set_forget_bias needs an LSTM built with bias=True, got bias=False")
        H = self.hidden_size
        with torch.no_grad():
            for k in range(self.num_layers):
                getattr(self, f"bias_ih_l{k}")[H:2 * H] = value  # forget: 2nd block (i, f, g, o)
                getattr(self, f"bias_hh_l{k}")[H:2 * H] = 0.0
        return self

    def _check_inputs(self, x: object, state: object
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        x = check_tensor("x", x, shape=("B", "T", self.input_size), dtype="float")
        _check_float_input("x", x, self.layer_weights(0)[0].dtype)
        if x.shape[1] == 0:
            raise ValueError(f"x must contain at least one time step, got shape {tuple(x.shape)}")
        B = x.shape[0]
        shape = (self.num_layers, B, self.hidden_size)
        if state is None:
            h0 = x.new_zeros(shape)
            return h0, h0
        return _check_state(state, shape, "(num_layers, B, H)", x.dtype)

    def forward(self, x: torch.Tensor,
                state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Run the whole sequence through every layer (fast formulation).

        For each layer, the input projection ``x_t W_ih^T + b`` of every time step is one big
        matrix product before the loop; inside the loop, one product ``h W_hh^T`` gives all
        four gates at once, and the three sigmoid gates share one call. The loop and its
        backward pass are written by hand (``_LSTMLayer``), so autograd records one
        operation per layer instead of about ten per step.

        Shape:
            x: ``(B, T, I)``, B sequences of T steps. state: ``(h0, c0)``, each
            ``(num_layers, B, H)``; zeros if None.
            Returns ``out`` ``(B, T, H)`` (the last layer's hidden state at every step) and
            ``(h_n, c_n)``, each ``(num_layers, B, H)`` (every layer's state after step T).
        """
        h0, c0 = self._check_inputs(x, state)
        H = self.hidden_size
        layer_in = x.transpose(0, 1)  # (T, B, I): time first, so each step is contiguous
        h_n, c_n = [], []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self.layer_weights(k)
            # Reorder the gates (i, f, g, o) -> (i, f, o, g) so one sigmoid covers three gates.
            dev = w_ih.device
            perm = torch.cat([torch.arange(0, 2 * H, device=dev),
                              torch.arange(3 * H, 4 * H, device=dev),
                              torch.arange(2 * H, 3 * H, device=dev)])
            w_ih, w_hh = w_ih[perm], w_hh[perm]
            xw = layer_in @ w_ih.T  # (T, B, 4H): every step's input projection at once
            if b_ih is not None and b_hh is not None:
                xw = xw + (b_ih + b_hh)[perm]
            # The loop over time, forward and backward, in one hand-written function.
            layer_in, h, c = _LSTMLayer.apply(xw, w_hh, h0[k], c0[k])  # (T, B, H), (B, H) x 2
            h_n.append(h)
            c_n.append(c)
        out = layer_in.transpose(0, 1)  # (B, T, H)
        return out, (torch.stack(h_n), torch.stack(c_n))

    def forward_stepwise(self, x: torch.Tensor,
                         state: tuple[torch.Tensor, torch.Tensor] | None = None
                         ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """The same computation as :meth:`forward`, one :func:`lstm_cell_step` at a time.

        Readable and slow: every step recomputes its input projection and each gate has its
        own products. Same shapes as :meth:`forward`.
        """
        h0, c0 = self._check_inputs(x, state)
        layer_in = list(x.unbind(1))  # T tensors of shape (B, I)
        h_n, c_n = [], []
        for k in range(self.num_layers):
            weights = self.layer_weights(k)
            h, c = h0[k], c0[k]
            outputs = []
            for x_t in layer_in:
                h, c = lstm_cell_step(x_t, h, c, *weights)
                outputs.append(h)
            layer_in = outputs
            h_n.append(h)
            c_n.append(c)
        return torch.stack(layer_in, dim=1), (torch.stack(h_n), torch.stack(c_n))

    @classmethod
    def from_torch(cls, module: nn.LSTM) -> LSTM:
        """An LSTM with the weights of ``module`` (a ``torch.nn.LSTM``), copied.

        ``module`` must be batch first, one-directional, without projections and without
        dropout between layers: the options this LSTM implements.
        """
        if not isinstance(module, nn.LSTM):
            raise TypeError(f"module must be a torch.nn.LSTM, got {type(module).__name__}")
        if module.bidirectional:
            raise ValueError("module must have bidirectional=False (this LSTM runs forwards only), "
                             "got bidirectional=True")
        if module.proj_size != 0:
            raise ValueError("module must have proj_size=0 (projections are not implemented), "
                             f"got proj_size={module.proj_size}")
        if not module.batch_first:
            raise ValueError("module must have batch_first=True (this LSTM takes (B, T, I) input), "
                             "got batch_first=False")
        if module.dropout != 0:
            raise ValueError("module must have dropout=0 (no dropout between layers here), "
                             f"got dropout={module.dropout}")
        lstm = cls(module.input_size, module.hidden_size, module.num_layers, bias=module.bias)
        weight = next(module.parameters())
        lstm = lstm.to(dtype=weight.dtype, device=weight.device)
        lstm.load_state_dict(module.state_dict())
        return lstm

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bias={self.bias}")
