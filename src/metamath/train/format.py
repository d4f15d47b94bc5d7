"""Examples -> token ids and labels (prompt masked), and micro-batches (packed or padded).

The prompt is metamath.prompts.alpaca.render(query, style): the same text the evaluator sends, so
the model is trained on exactly the prompt tokens it sees at test time.

Label mask (method reference §3): labels are -100 on the prompt (BOS included) and on padding;
the response and the EOS token are trained. Loss = mean NLL over those tokens, taken over the
whole optimizer step (all micro-batches, all processes), so packing, padding, micro-batch size and
process count do not change the loss or the gradient.

Packing: a micro-batch's examples are laid end to end in one row with position ids that restart
at 0 for every example and no attention mask. transformers reads the restarts as document
boundaries (masking_utils.find_packed_sequence_indices): sdpa/eager/flex get a block-diagonal
causal mask; flash-attention and metamath.train.attention ("varlen") are given the boundaries
directly (cu_seq_lens), so no token attends across examples. The model
shifts labels by one over the whole row; every example starts with a masked prompt token, so the
last token of one example never learns to predict the first token of the next (checked in
encode_batch). Plain `labels` keep the model's own loss path, and Liger's fused loss, usable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from metamath.prompts.alpaca import render
from metamath.prompts.styles import TRAIN_STYLES, style_error

IGNORE_INDEX = -100


def prompt_text(tokenizer: Any, query: str, style: str) -> str:
    """The prompt string for a query, as the evaluator renders it."""
    if style == "metamath":
        return render(query, "metamath")
    if style == "original":
        return render(query, "original_train")
    if style == "chat":
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                "prompt_style=chat but the tokenizer has no chat template; use "
                "prompt_style=metamath (the Alpaca prompt) or a chat model"
            )
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": query}], tokenize=False, add_generation_prompt=True
        )
    raise style_error(style, TRAIN_STYLES, "prompt_style")


def _chat_response_text(tokenizer: Any, query: str, response: str, prompt: str) -> str:
    full = tokenizer.apply_chat_template(
        [{"role": "user", "content": query}, {"role": "assistant", "content": response}],
        tokenize=False,
    )
    if not full.startswith(prompt):
        raise ValueError(
            "the chat template renders the conversation with a different prefix "
            "than the generation prompt; use prompt_style=metamath"
        )
    # The assistant turn as the template writes it (end-of-turn marker included), minus the
    # trailing newline some templates add after it.
    return full[len(prompt) :].rstrip("\n")


def encode_batch(
    tokenizer: Any, queries: Sequence[str], responses: Sequence[str], style: str
) -> tuple[list[list[int]], list[int]]:
    """Token ids (prompt + response + EOS, untruncated) and prompt lengths for many examples.

    metamath/chat: the prompt is tokenised alone, exactly as the evaluator tokenises it (BOS where
    the tokenizer adds one), and the response is tokenised alone and appended, so the prompt
    tokens at training equal those at evaluation. original: the released trainer's way, one joint
    tokenisation of prompt + response + "</s>", with the first len(tokenize(prompt)) tokens masked.
    """
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError("the tokenizer has no EOS token; set tokenizer.eos_token before training")
    prompts = [prompt_text(tokenizer, q, style) for q in queries]
    if style == "original":
        joint = tokenizer(
            [p + r + tokenizer.eos_token for p, r in zip(prompts, responses, strict=False)]
        )
        p_ids = tokenizer(prompts)["input_ids"]
        return list(joint["input_ids"]), [len(p) for p in p_ids]
    add_special = style != "chat"  # a chat template writes its own BOS
    p_ids = tokenizer(prompts, add_special_tokens=add_special)["input_ids"]
    if style == "chat":
        responses = [
            _chat_response_text(tokenizer, q, r, p)
            for q, r, p in zip(queries, responses, prompts, strict=False)
        ]
    r_ids = tokenizer(list(responses), add_special_tokens=False)["input_ids"]
    if any(len(p) == 0 for p in p_ids):
        raise ValueError(
            "an empty prompt: the first token of every example must be a masked "
            "prompt token (packed examples rely on it)"
        )
    ids, plens = [], []
    for p, r in zip(p_ids, r_ids, strict=False):
        r = list(r)
        if not r or r[-1] != eos:
            r.append(eos)
        ids.append(list(p) + r)
        plens.append(len(p))
    return ids, plens


def labels_for(ids: Sequence[int], prompt_len: int) -> list[int]:
    """Labels: -100 on the prompt, the token itself on the response and EOS."""
    return [IGNORE_INDEX] * prompt_len + [int(t) for t in ids[prompt_len:]]


def shifted_labels(ids: Sequence[int], prompt_len: int) -> list[int]:
    """Next-token targets within one example: position t predicts token t+1; the last predicts
    nothing (so packed examples never predict across a boundary)."""
    lab = labels_for(ids, prompt_len)
    return lab[1:] + [IGNORE_INDEX]


def n_targets(ids: Sequence[int], prompt_len: int) -> int:
    """Trained tokens in one example: response + EOS, i.e. non-masked shifted labels."""
    return max(0, len(ids) - max(prompt_len, 1))


def pack_rows(lengths: Sequence[int], row_tokens: int) -> list[list[int]]:
    """Group examples (by index) into rows of at most row_tokens tokens, first-fit decreasing;
    row_tokens <= 0 puts them all in one row."""
    if row_tokens <= 0:
        return [list(range(len(lengths)))]
    rows: list[list[int]] = []
    loads: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        for r, load in enumerate(loads):
            if load + lengths[i] <= row_tokens:
                rows[r].append(i)
                loads[r] += lengths[i]
                break
        else:
            rows.append([i])
            loads.append(lengths[i])
    return rows


def collate_packed(
    examples: Sequence[tuple[Sequence[int], int]],
    pad_id: int = 0,
    row_tokens: int = 0,
    varlen: bool = False,
) -> dict[str, Any]:
    """Examples end to end in rows of at most row_tokens tokens (0: one row), position ids
    restarting per example, no attention mask.

    Short rows are filled up to the longest with padding that forms its own "document"
    (positions from 0, labels -100), so it is attended by nothing else. Rows of bounded length
    keep the cost of SDPA's masked (dense) attention at row_tokens squared instead of the whole
    micro-batch squared; varlen kernels want one row (row_tokens=0).

    varlen: also give the document boundaries over the flattened batch as the keyword
    arguments transformers' flash path and metamath.train.attention read (cu_seq_lens_q/k,
    int32, and max_length_q/k, ints), computed here so the GPU never has to derive them.
    """
    import torch

    rows = pack_rows([len(x) for x, _ in examples], row_tokens)
    width = max(sum(len(examples[i][0]) for i in row) for row in rows)
    ids, pos, lab = [], [], []
    docs: list[int] = []  # document lengths in flattened order
    for row in rows:
        r_ids, r_pos, r_lab = [], [], []
        for i in row:
            x, plen = examples[i]
            x = [int(t) for t in x]
            r_ids.extend(x)
            r_pos.extend(range(len(x)))
            r_lab.extend(labels_for(x, plen))
            docs.append(len(x))
        k = width - len(r_ids)
        if k:
            docs.append(k)
        ids.append(r_ids + [pad_id] * k)
        pos.append(r_pos + list(range(k)))
        lab.append(r_lab + [IGNORE_INDEX] * k)
    batch = {
        "input_ids": torch.tensor(ids),
        "position_ids": torch.tensor(pos),
        "labels": torch.tensor(lab),
    }
    if varlen:
        cu = torch.tensor([0] + docs, dtype=torch.int32).cumsum(0, dtype=torch.int32)
        batch.update(
            cu_seq_lens_q=cu, cu_seq_lens_k=cu, max_length_q=max(docs), max_length_k=max(docs)
        )
    return batch


def collate_padded(examples: Sequence[tuple[Sequence[int], int]], pad_id: int) -> dict[str, Any]:
    """Right-padded rows (pad to the longest), attention mask 0 and labels -100 on padding."""
    import torch

    width = max(len(x) for x, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    lab = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    att = torch.zeros((len(examples), width), dtype=torch.long)
    for i, (x, plen) in enumerate(examples):
        n = len(x)
        x = [int(t) for t in x]
        ids[i, :n] = torch.tensor(x)
        lab[i, :n] = torch.tensor(labels_for(x, plen))
        att[i, :n] = 1
    pos = torch.arange(width).unsqueeze(0).expand(len(examples), -1)
    return {"input_ids": ids, "attention_mask": att, "position_ids": pos, "labels": lab}
