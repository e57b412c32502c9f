"""Chapter 6 speed ratios: the key/value cache in greedy decoding, and the Transformer against
the attention LSTM per training step as sequences grow. Prints ratios (machine-independent-ish),
not absolute times.

    PYTHONPATH=. python benchmarks/bench_transformer.py
"""

import torch

import minitransformer as mt


def main() -> None:
    torch.set_num_threads(2)
    model, _ = mt.load_checkpoint(mt.transformer.DATE_CHECKPOINT)
    tok = mt.date_tokenizer()
    _, _, test = mt.date_splits(16000, 500, 1000, seed=0)
    src = mt.make_batches(test[:16], 16)[0].src
    for n in (32, 64, 128):
        cached = mt.time_it(lambda n=n: mt.greedy_decode(model, src, n, tok.bos_id, None), repeats=3)
        full = mt.time_it(lambda n=n: mt.greedy_decode(model, src, n, tok.bos_id, None,
                                                       use_cache=False), repeats=3)
        print(f"greedy decoding of {n:3d} tokens: cache speed-up {full / cached:.1f}x")

    mt.seed_everything(0)
    transformer = mt.Transformer(mt.TransformerConfig(len(tok), len(tok), d_model=64, n_heads=4,
                                                      n_layers=2, d_ff=128, dropout=0.0,
                                                      max_len=300, share_embeddings=True))
    lstm = mt.Seq2Seq(len(tok), len(tok), emb=64, hidden=128, attention=True)
    loss_fn = mt.seq2seq_loss(0.0)
    for length in (16, 32, 64, 128, 256):
        src = torch.randint(4, len(tok), (32, length))
        tgt = torch.randint(4, len(tok), (32, length + 1))
        times = []
        for m in (transformer, lstm):
            opt = torch.optim.Adam(m.parameters(), lr=1e-4)

            def step(m=m, opt=opt, src=src, tgt=tgt):
                opt.zero_grad()
                loss_fn(m, (src, tgt[:, :-1], tgt[:, 1:])).backward()
                opt.step()

            times.append(mt.time_it(step, repeats=3))
        print(f"training step at length {length:3d}: LSTM / Transformer = {times[1] / times[0]:.1f}")


if __name__ == "__main__":
    main()
