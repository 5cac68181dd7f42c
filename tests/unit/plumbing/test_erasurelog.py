"""The erasure log: durable appends, a torn last line ignored, replay erases only the listed."""

from __future__ import annotations

from pathlib import Path

from plumbing.erasurelog import ErasureLog, replay


async def test_appends_survive_and_a_torn_line_is_ignored(tmp_path: Path) -> None:
    log = ErasureLog(tmp_path / "nested" / "erasures.jsonl")
    await log.record("ptag_a")
    await log.record("ptag_b")
    with log.path.open("a") as handle:
        handle.write('{"index": "ptag_c"')  # a crash mid-append
    assert ErasureLog(log.path).indexes() == {"ptag_a", "ptag_b"}
    assert log.path.stat().st_mode & 0o777 == 0o600


async def test_replay_erases_exactly_the_listed_candidates(tmp_path: Path) -> None:
    log = ErasureLog(tmp_path / "erasures.jsonl")
    erased: list[str] = []

    async def erase(subject: str) -> None:
        erased.append(subject)

    assert await replay(log, [("ptag_a", "usr_a")], erase) == 0  # no log yet
    await log.record("ptag_a")
    candidates = [("ptag_a", "usr_a"), ("ptag_b", "usr_b")]
    assert await replay(log, candidates, erase) == 1
    assert erased == ["usr_a"]
