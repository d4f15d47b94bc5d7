"""A tiny LLaMA-architecture model with random weights and a small BPE tokenizer.

For tests, offline demos and CI: the whole pipeline (teacher, student, server, trainer) runs on
it in seconds on a CPU. It answers at random, so accuracies are ~0; the plumbing is real.

    metamath tiny-model ./tiny          # then pass ./tiny wherever a model is expected
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

# A chat template in the usual role-tag style, so chat-template code paths are exercised.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

_FALLBACK = [
    "Question: Tom has 3 apples and buys 5 more. How many apples does he have? The answer is: 8",
    "Find the value of $x$ if $2x + 3 = 11$. $\\boxed{4}$ The value of x is 4.",
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n\n### Response: Let's think step by step.",
    "#### 72 \\frac{1}{2} \\sqrt{3} 0123456789 + - * / = ( ) [ ] { } , . ? ! % $",
]


def _corpus(data_dir: Path | None, limit: int = 4000) -> Iterator[str]:
    yield from _FALLBACK
    if data_dir is None:
        return
    for rel, fields in (
        ("gsm8k/train.jsonl", ("question", "answer")),
        ("math/train.jsonl", ("problem", "solution")),
    ):
        f = data_dir / rel
        if not f.exists():
            continue
        with open(f, encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if i >= limit:
                    break
                row = json.loads(line)
                yield " ".join(str(row.get(k, "")) for k in fields)


def build_tiny_model(
    out_dir: str | Path,
    data_dir: str | Path | None = None,
    *,
    vocab_size: int = 2048,
    hidden_size: int = 64,
    layers: int = 2,
    seed: int = 0,
    texts: Iterable[str] | None = None,
) -> Path:
    """Train a BPE tokenizer on seed-data text, build a random tiny Llama, save both to out_dir."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = (
        list(texts) if texts is not None else list(_corpus(Path(data_dir) if data_dir else None))
    )
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<unk>", "<s>", "</s>", "<pad>", "<|user|>", "<|assistant|>", "<|system|>"]
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=4096,
    )
    hf_tok.chat_template = CHAT_TEMPLATE
    hf_tok.save_pretrained(out)

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(hf_tok),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=hf_tok.bos_token_id,
        eos_token_id=hf_tok.eos_token_id,
        pad_token_id=hf_tok.pad_token_id,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(cfg)
    model.generation_config.eos_token_id = hf_tok.eos_token_id
    model.generation_config.pad_token_id = hf_tok.pad_token_id
    model.save_pretrained(out)
    from metamath.io import follow_umask

    follow_umask(out)  # safetensors writes model.safetensors owner-only
    return out
