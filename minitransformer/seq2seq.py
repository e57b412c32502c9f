"""The RNN encoder-decoder, without and with additive attention.

An encoder LSTM reads the source tokens; a decoder LSTM writes the target tokens one by one.

- **Without attention** (Sutskever et al. 2014; Cho et al. 2014): the decoder starts from the
  encoder's final state and sees nothing else of the source. Everything it needs must squeeze
  through that one fixed-size vector: the *bottleneck*.
- **With attention** (Bahdanau et al. 2015): at every step the decoder's previous state
  queries all encoder outputs with :class:`AdditiveAttention` (defined here); the weighted
  average (the *context*) is fed into the step and into the output layer, so the source is
  read afresh for each output token.

Both use ``torch.nn.LSTM`` internally for speed (chapter 4 shows our own
``LSTM`` equals ``nn.LSTM``). Sources are right-padded with ``pad_id``; the encoder is run on
packed sequences so its final state is taken at each sequence's true end, and the attention
never looks at padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ._validation import check_int, check_mask, check_tensor, check_token_ids, describe
from .attention import _masked_softmax

__all__ = ["AdditiveAttention", "DecoderState", "Seq2Seq"]


# --- additive attention (Bahdanau et al. 2015) ---------------------------------------------

class AdditiveAttention(nn.Module):
    r"""Additive ("concat") attention of Bahdanau et al. (2015), appendix A.1.2.

    The score of query :math:`s` against key :math:`h_j` is a one-hidden-layer network,
    :math:`e_j = w^\top \tanh(W_q s + W_k h_j)`; the weights are
    :math:`\alpha = \mathrm{softmax}(e)` over the allowed keys and the context is
    :math:`c = \sum_j \alpha_j v_j`. In the RNN encoder-decoder the query is the decoder's
    previous state and the keys and values are the encoder's outputs.

    Args:
        query_size: width ``D_q`` of a query.
        key_size: width ``D_k`` of a key.
        hidden_size: width of the scoring network's hidden layer.
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int):
        super().__init__()
        self.query_size = check_int("query_size", query_size, minimum=1)
        self.key_size = check_int("key_size", key_size, minimum=1)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        self.query_proj = nn.Linear(query_size, hidden_size, bias=False)  # W_q
        self.key_proj = nn.Linear(key_size, hidden_size, bias=True)       # W_k (and a bias)
        self.score = nn.Linear(hidden_size, 1, bias=False)                # w

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                mask: torch.Tensor | None = None, *,
                projected_keys: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend from ``query`` over ``keys``, averaging ``values``.

        ``projected_keys``, if given, is ``key_proj(keys)`` computed beforehand. A decoder
        that asks new queries of the same keys at every step computes it once per source, as
        Bahdanau et al. note (appendix A.1.2), instead of once per step.

        Shape:
            query: ``(B, D_q)`` (one query per sequence, as in an RNN decoder step) or
            ``(B, T_q, D_q)``.
            keys: ``(B, T_k, D_k)``; values: ``(B, T_k, D_v)``.
            mask: bool, True = may attend, broadcastable to ``(B, T_k)`` for a 2-D query or
            ``(B, T_q, T_k)`` for a 3-D one (e.g. ``src != pad_id`` of shape ``(B, T_k)``,
            or ``(B, 1, T_k)``).
            projected_keys: ``(B, T_k, hidden_size)`` or None.
            Returns ``(context, weights)``: context ``(B, D_v)`` or ``(B, T_q, D_v)``,
            weights ``(B, T_k)`` or ``(B, T_q, T_k)``.
        """
        check_tensor("query", query, dtype="float")
        if query.dim() not in (2, 3):
            raise ValueError(f"query must be (B, D_q) or (B, T_q, D_q), got {describe(query)}")
        check_tensor("query", query, shape=(*(None,) * (query.dim() - 1), self.query_size))
        check_tensor("keys", keys, shape=(query.shape[0], "T_k", self.key_size), dtype="float")
        check_tensor("values", values, shape=(query.shape[0], keys.shape[1], None), dtype="float")
        if projected_keys is None:
            projected_keys = self.key_proj(keys)          # (B, T_k, H)
        else:
            check_tensor("projected_keys", projected_keys,
                         shape=(query.shape[0], keys.shape[1], self.hidden_size), dtype="float")
        single = query.dim() == 2
        if mask is not None:
            if single:
                check_mask("mask", mask, (query.shape[0], keys.shape[1]))
            else:
                check_mask("mask", mask, (query.shape[0], query.shape[1], keys.shape[1]))
        if single:
            query = query[:, None, :]                     # (B, 1, D_q)
            if mask is not None and mask.dim() == 2:
                mask = mask[:, None, :]                   # (B, 1, T_k)
        hidden = torch.tanh(self.query_proj(query)[:, :, None, :]  # (B, T_q, 1, H)
                            + projected_keys[:, None, :, :])      # (B, 1, T_k, H)
        scores = self.score(hidden).squeeze(-1)           # (B, T_q, T_k)
        weights = _masked_softmax(scores, mask)           # (B, T_q, T_k)
        context = weights @ values                        # (B, T_q, D_v)
        if single:
            return context[:, 0], weights[:, 0]           # (B, D_v), (B, T_k)
        return context, weights


# --- the encoder-decoder ------------------------------------------------------------------

@dataclass
class DecoderState:
    """What the decoder carries from one step to the next.

    Attributes:
        h, c: the decoder LSTM's hidden and cell state, ``(B, hidden)`` each.
        memory: the encoder's outputs, ``(B, T_src, hidden)`` (zero at padding).
        mask: ``(B, T_src)`` bool, True on real source tokens.
        keys: the attention's projected keys ``(B, T_src, hidden)``, computed once by
            ``encode`` (None without attention).
    """

    h: torch.Tensor
    c: torch.Tensor
    memory: torch.Tensor
    mask: torch.Tensor
    keys: torch.Tensor | None = None


class Seq2Seq(nn.Module):
    """An LSTM encoder-decoder, with or without additive attention.

    Args:
        src_vocab: source vocabulary size.
        tgt_vocab: target vocabulary size.
        emb: width of the token embeddings.
        hidden: width of the encoder's and decoder's LSTM states.
        attention: use Bahdanau attention over the encoder outputs.
        pad_id: padding token id (the same id in both vocabularies).
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, emb: int, hidden: int,
                 attention: bool, pad_id: int = 0):
        super().__init__()
        self.src_vocab = check_int("src_vocab", src_vocab, minimum=2)
        self.tgt_vocab = check_int("tgt_vocab", tgt_vocab, minimum=2)
        self.emb = check_int("emb", emb, minimum=1)
        self.hidden = check_int("hidden", hidden, minimum=1)
        if not isinstance(attention, bool):
            raise TypeError(f"attention must be a bool, got {describe(attention)}")
        self.pad_id = check_int("pad_id", pad_id, minimum=0,
                                maximum=min(src_vocab, tgt_vocab) - 1)
        self.src_embed = nn.Embedding(src_vocab, emb, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab, emb, padding_idx=pad_id)
        self.encoder = nn.LSTM(emb, hidden, batch_first=True)
        self.attention: AdditiveAttention | None
        if attention:
            self.attention = AdditiveAttention(hidden, hidden, hidden)
            self.decoder = nn.LSTM(emb + hidden, hidden, batch_first=True)  # [y_{i-1}; c_i]
            self.out = nn.Linear(2 * hidden, tgt_vocab)         # from [s_i; context_i]
        else:
            self.attention = None
            self.decoder = nn.LSTM(emb, hidden, batch_first=True)
            self.out = nn.Linear(hidden, tgt_vocab)

    # --- the two halves ---------------------------------------------------------------------------

    def encode(self, src: torch.Tensor) -> DecoderState:
        """Read the source; return the decoder's initial state.

        Shape:
            src: ``(B, T_src)`` token ids, right-padded with ``pad_id``, each row with at least
            one real token.
        """
        check_token_ids("src", src, self.src_vocab)
        mask = src != self.pad_id                                   # (B, T_src)
        if src.is_meta:  # shapes only (no values, hence no lengths to pack by): same shapes
            memory, (h, c) = self.encoder(self.src_embed(src))
            return self._state(h[0], c[0], memory, mask)
        if not mask[:, 0].all():
            raise ValueError("src must have at least one real (non-pad) token in every row, "
                             f"got an empty row (pad_id={self.pad_id})")
        if (mask[:, 1:] & ~mask[:, :-1]).any():
            raise ValueError(f"src must be right-padded (all pad_id={self.pad_id} tokens at the "
                             "end of each row), got a real token after a pad")
        lengths = mask.sum(dim=1).cpu()  # (B,): pack_padded_sequence wants them on the CPU
        packed = pack_padded_sequence(self.src_embed(src), lengths, batch_first=True,
                                      enforce_sorted=False)
        out, (h, c) = self.encoder(packed)                          # h, c: (1, B, hidden)
        memory, _ = pad_packed_sequence(out, batch_first=True,
                                        total_length=src.shape[1])  # (B, T_src, hidden)
        return self._state(h[0], c[0], memory, mask)

    def _state(self, h: torch.Tensor, c: torch.Tensor, memory: torch.Tensor,
               mask: torch.Tensor) -> DecoderState:
        keys = None if self.attention is None else self.attention.key_proj(memory)
        return DecoderState(h, c, memory, mask, keys)

    def decode_step(self, prev: torch.Tensor, state: DecoderState
                    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor | None]:
        """One decoder step: read the previous token, return next-token logits.

        Returns ``(logits, new_state, weights)``; ``weights`` are the attention weights over
        the source (None without attention).

        Shape:
            prev: ``(B,)`` the previous target token (``bos_id`` at the first step).
            logits: ``(B, tgt_vocab)``; weights: ``(B, T_src)``.
        """
        check_token_ids("prev", prev, self.tgt_vocab, ndim=1)
        if not isinstance(state, DecoderState):
            raise TypeError(f"state must be the DecoderState from encode(), got {describe(state)}")
        if prev.shape[0] != state.h.shape[0]:
            raise ValueError(f"prev must have one token per sequence ({state.h.shape[0]}), "
                             f"got {prev.shape[0]}")
        return self._step(prev, state)

    def _step(self, prev: torch.Tensor, state: DecoderState
              ) -> tuple[torch.Tensor, DecoderState, torch.Tensor | None]:
        # decode_step without its checks, for forward and generate, whose tokens are checked
        x = self.tgt_embed(prev)                                    # (B, emb)
        weights = None
        if self.attention is not None:
            # the previous state s_{i-1} queries the encoder outputs (section 3.1, Eqs. (5)-(6))
            context, weights = self.attention(state.h, state.memory, state.memory, state.mask,
                                              projected_keys=state.keys)  # (B, hidden), (B, T_src)
            x = torch.cat([x, context], dim=-1)                     # (B, emb + hidden)
        # one step of the decoder's nn.LSTM by the kernel nn.LSTMCell runs, which costs less
        # than a call of nn.LSTM on a sequence of length 1
        w_ih, w_hh, b_ih, b_hh = self.decoder.all_weights[0]      # layer 0, the only one
        h, c = torch.lstm_cell(x, (state.h, state.c), w_ih, w_hh, b_ih, b_hh)  # (B, hidden) each
        features = h if self.attention is None else torch.cat([h, context], dim=-1)
        return (self.out(features), DecoderState(h, c, state.memory, state.mask, state.keys),
                weights)

    # --- training and generation ------------------------------------------------------------------

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: predict ``tgt_in`` shifted by one, given the true previous tokens.

        Shape:
            src: ``(B, T_src)`` token ids; tgt_in: ``(B, T_tgt)`` target ids starting with
            ``bos``. Returns logits ``(B, T_tgt, tgt_vocab)``.
        """
        check_token_ids("tgt_in", tgt_in, self.tgt_vocab)
        if tgt_in.shape[0] != src.shape[0]:
            raise ValueError(f"tgt_in must have the batch size of src ({src.shape[0]}), "
                             f"got {tgt_in.shape[0]}")
        state = self.encode(src)
        if self.attention is None:  # nothing depends on the step's output: run all steps at once
            out, _ = self.decoder(self.tgt_embed(tgt_in), (state.h[None], state.c[None]))
            return self.out(out)                                    # (B, T_tgt, tgt_vocab)
        logits = []
        for t in range(tgt_in.shape[1]):
            step_logits, state, _ = self._step(tgt_in[:, t], state)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)                           # (B, T_tgt, tgt_vocab)

    @torch.no_grad()
    def generate(self, src: torch.Tensor, max_len: int, bos_id: int, eos_id: int
                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Greedy decoding: feed back the most likely token until ``eos_id`` or ``max_len``.

        Returns ``(tokens, weights)``: tokens ``(B, L)`` with ``L <= max_len`` (no ``bos``; the
        ``eos`` included where produced, ``pad_id`` after it); weights ``(B, L, T_src)``, the
        attention over the source for every output token (zero after ``eos``), or None
        without attention. Stops early once every row has produced ``eos``.
        """
        max_len = check_int("max_len", max_len, minimum=1)
        bos_id = check_int("bos_id", bos_id, minimum=0, maximum=self.tgt_vocab - 1)
        eos_id = check_int("eos_id", eos_id, minimum=0, maximum=self.tgt_vocab - 1)
        state = self.encode(src)
        prev = torch.full((src.shape[0],), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        tokens, weights = [], []
        for _ in range(max_len):
            logits, state, w = self._step(prev, state)
            prev = logits.argmax(dim=-1).masked_fill(done, self.pad_id)  # (B,)
            tokens.append(prev)
            if w is not None:
                weights.append(w.masked_fill(done[:, None], 0.0))
            done = done | (prev == eos_id)
            if done.all():
                break
        return (torch.stack(tokens, dim=1),                          # (B, L)
                torch.stack(weights, dim=1) if weights else None)    # (B, L, T_src)
