"""Prompt, label mask and packing on real GSM8K rows with the tiny model's tokenizer."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from metamath.prompts.alpaca import render  # noqa: E402
from metamath.train.attention import register  # noqa: E402
from metamath.train.format import (  # noqa: E402
    IGNORE_INDEX,
    collate_packed,
    collate_padded,
    encode_batch,
    labels_for,
    n_targets,
    shifted_labels,
)


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    return transformers.AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def gsm_rows(data_dir):
    with open(data_dir / "gsm8k" / "train.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line, _ in zip(f, range(6), strict=False)]


def test_label_mask_is_exact_on_real_rows(tok, gsm_rows):
    qs = [r["question"] for r in gsm_rows]
    rs = [r["answer"] for r in gsm_rows]
    ids, plens = encode_batch(tok, qs, rs, "metamath")
    for q, r, x, p in zip(qs, rs, ids, plens, strict=False):
        # the prompt tokens are exactly what the evaluator sends: tokenize(render(query))
        assert x[:p] == tok(render(q))["input_ids"]
        lab = labels_for(x, p)
        assert lab[:p] == [IGNORE_INDEX] * p
        trained = [t for t in lab if t != IGNORE_INDEX]
        assert trained[-1] == tok.eos_token_id
        assert tok.decode(trained) == r + tok.eos_token  # the whole response, then EOS
        assert (
            sum(t != IGNORE_INDEX for t in shifted_labels(x, p)) == n_targets(x, p) == len(trained)
        )


def test_original_style_reproduces_released_trainer(tok):
    q, r = "Compute 2+3.\nGive the answer as an integer.", "2+3=5. The answer is: 5"
    (x,), (p,) = encode_batch(tok, [q], [r], "original")
    prompt = render(q, "original_train")
    assert "### Input:\nGive the answer as an integer." in prompt  # first-line split quirk
    # one joint tokenisation of prompt + response + "</s>", no space after "### Response:"
    assert x == tok(prompt + r + tok.eos_token)["input_ids"]
    assert tok.decode(x, skip_special_tokens=False).endswith("### Response:" + r + "</s>")
    assert p == len(tok(prompt)["input_ids"])


def test_chat_style_uses_the_template(tok):
    (x,), (p,) = encode_batch(tok, ["What is 1+1?"], ["1+1=2. The answer is: 2"], "chat")
    assert tok.decode(x[:p]) == "<|user|>\nWhat is 1+1?</s>\n<|assistant|>\n"
    assert tok.decode(x[p:]) == "1+1=2. The answer is: 2</s>"
    assert x[-1] == tok.eos_token_id and x.count(tok.eos_token_id) == 2


def test_packed_row_resets_positions_and_never_predicts_across_examples(tok, gsm_rows):
    ids, plens = encode_batch(
        tok, [r["question"] for r in gsm_rows[:3]], [r["answer"] for r in gsm_rows[:3]], "metamath"
    )
    b = collate_packed(list(zip(ids, plens, strict=False)))
    pos, lab = b["position_ids"][0].tolist(), b["labels"][0].tolist()
    starts = [i for i, v in enumerate(pos) if v == 0]
    assert starts == [0, len(ids[0]), len(ids[0]) + len(ids[1])]
    for s in starts:
        assert lab[s] == IGNORE_INDEX  # so the token before an example start predicts nothing
    pad = collate_padded(list(zip(ids, plens, strict=False)), tok.pad_token_id)
    assert pad["attention_mask"].sum().item() == sum(len(x) for x in ids)
    assert (pad["labels"] != IGNORE_INDEX).sum().item() == sum(
        n_targets(x, p) for x, p in zip(ids, plens, strict=False)
    )


def test_rows_of_bounded_length_pad_with_their_own_document(tok, gsm_rows):
    ids, plens = encode_batch(
        tok, [r["question"] for r in gsm_rows], [r["answer"] for r in gsm_rows], "metamath"
    )
    cap = max(len(x) for x in ids) + 40
    b = collate_packed(list(zip(ids, plens, strict=True)), tok.pad_token_id, row_tokens=cap)
    n_rows, width = b["input_ids"].shape
    assert n_rows > 1 and width <= cap
    assert (b["labels"] != IGNORE_INDEX).sum().item() == sum(
        n_targets(x, p) for x, p in zip(ids, plens, strict=True)
    )
    # every example appears exactly once, whole
    starts = (b["position_ids"] == 0).sum().item()
    pads = (b["input_ids"] == tok.pad_token_id).any(dim=1).sum().item()
    assert starts == len(ids) + pads


@pytest.mark.parametrize(
    "attn,row_tokens", [("sdpa", 0), ("eager", 0), ("sdpa", 500), ("varlen", 0), ("varlen", 500)]
)
def test_packed_and_unpacked_loss_agree(tiny_model_dir, tok, gsm_rows, attn, row_tokens):
    varlen = attn == "varlen"
    if varlen:  # metamath.train.attention: on CPU its per-document SDPA path
        attn = register()
    model = transformers.AutoModelForCausalLM.from_pretrained(
        tiny_model_dir, attn_implementation=attn
    )
    ids, plens = encode_batch(
        tok, [r["question"] for r in gsm_rows], [r["answer"] for r in gsm_rows], "metamath"
    )
    ex = list(zip(ids, plens, strict=False))
    n = sum(n_targets(x, p) for x, p in ex)

    def loss(batch):
        with torch.no_grad():
            out = model(**batch, num_items_in_batch=n, use_cache=False)
        return out.loss.item(), out.logits

    packed, logits_p = loss(collate_packed(ex, tok.pad_token_id, row_tokens, varlen))
    padded, _ = loss(collate_padded(ex, tok.pad_token_id))
    assert abs(packed - padded) < 1e-4
    if row_tokens:
        return  # the isolation check below reads the single-row layout
    # Every example's logits in the packed row equal its logits run alone: no attention
    # crosses examples. Control: without position restarts the second example changes.
    with torch.no_grad():
        alone = model(input_ids=torch.tensor([ids[1]]), use_cache=False).logits[0]
    a, b = len(ids[0]), len(ids[0]) + len(ids[1])
    assert (logits_p[0, a:b] - alone).abs().max().item() < 1e-4
    broken = collate_packed(ex)
    broken["position_ids"] = torch.arange(broken["input_ids"].shape[1])[None]
    if varlen:  # without boundaries the varlen path treats the row as one sequence
        broken.pop("cu_seq_lens_q", None)
    _, logits_b = loss(broken)
    assert (logits_b[0, a:b] - alone).abs().max().item() > 1e-2
