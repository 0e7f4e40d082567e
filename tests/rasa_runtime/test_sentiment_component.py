"""The sentiment component's parts that need no trained model: signals and labelled files."""

from pathlib import Path

import pytest

from bot.sentiment import frustration_signals, read_examples


@pytest.mark.parametrize(
    ("text", "signals"),
    [
        ("where is my order", []),
        ("WHERE IS MY ORDER", ["shouting"]),
        ("where is it???", ["repeated_punctuation"]),
        ("this is crap", ["profanity"]),
        ("this is the third time I ask", ["repeated_request"]),
        ("I've asked you twice already", ["repeated_request"]),
        ("I will never shop here again", ["threat_to_leave"]),
        ("WTF, THIRD TIME I ASK!!!", ["shouting", "repeated_punctuation", "profanity", "repeated_request"]),
        ("I love my NEW hoodie", []),  # one capitalised word is not shouting
    ],
)
def test_frustration_signals(text: str, signals: list[str]) -> None:
    assert frustration_signals(text) == signals


def test_labelled_files(tmp_path: Path) -> None:
    ours = tmp_path / "ours.yml"
    ours.write_text('version: "1"\nexamples:\n  - text: "love it"\n    label: positive\n')
    assert read_examples(ours) == [("love it", "positive")]
    ours.write_text('version: "1"\nexamples:\n  - text: "meh"\n    label: grumpy\n')
    with pytest.raises(ValueError, match="unknown sentiment labels"):
        read_examples(ours)
    (tmp_path / "labels.txt").write_text("ambiguous\nnegative\nneutral\npositive\n")
    tsv = tmp_path / "train.tsv"
    tsv.write_text("so good\t3\tid1\nawful\t1\tid2\nhmm\t0\tid3\nmixed\t1,3\tid4\nok then\t2\tid5\n")
    assert read_examples(tsv) == [("so good", "positive"), ("awful", "negative"), ("ok then", "neutral")]


def test_our_training_file_is_balanced_enough() -> None:
    pairs = read_examples(Path(__file__).resolve().parents[2] / "bot" / "sentiment_data" / "train.yml")
    counts = {label: sum(1 for _, lab in pairs if lab == label) for label in ("negative", "neutral", "positive")}
    assert min(counts.values()) >= 250 and len({text.lower() for text, _ in pairs}) == len(pairs)
