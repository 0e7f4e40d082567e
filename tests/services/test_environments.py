"""Finding interpreters and creating, skipping and repairing environments from lock files."""

import sys
from pathlib import Path

import pytest

import devstack.environments as environments
from devstack.environments import EnvironmentSetupFailed, Runtime, ensure_environment, is_up_to_date
from devstack.interpreters import InterpreterNotFound, find_interpreter

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def test_missing_interpreter_is_named_with_what_was_tried(tmp_path: Path) -> None:
    with pytest.raises(InterpreterNotFound) as caught:
        find_interpreter("3.10", candidates=[tmp_path / "bin" / "python3.10"])
    message = str(caught.value)
    assert "Python 3.10 was not found" in message
    assert str(tmp_path / "bin" / "python3.10") in message
    assert "pyenv install 3.10" in message


def test_an_interpreter_of_another_version_is_not_taken() -> None:
    with pytest.raises(InterpreterNotFound):
        find_interpreter("2.9", candidates=[Path(sys.executable)])


def test_finds_a_working_interpreter_by_version() -> None:
    found = find_interpreter(THIS_PYTHON)
    assert found.exists()


@pytest.fixture
def tiny_runtime(tmp_path: Path) -> Runtime:
    # pip itself is already in every new venv, so this lock installs without any network.
    lock = tmp_path / "tiny.lock"
    lock.write_text("# tiny runtime for tests\npip\n")
    return Runtime(name="tiny", python_version=THIS_PYTHON, lock_file=lock)


def test_creates_then_skips_an_up_to_date_environment(
    tiny_runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venvs = tmp_path / "venvs"
    python = ensure_environment(tiny_runtime, venvs)
    assert python.exists()
    assert is_up_to_date(tiny_runtime, venvs)

    def no_steps(description: str, command: list[str]) -> None:
        raise AssertionError(f"an up-to-date environment ran {description}")

    monkeypatch.setattr(environments, "_run_step", no_steps)
    assert ensure_environment(tiny_runtime, venvs) == python


def test_repairs_a_broken_or_half_installed_environment(tiny_runtime: Runtime, tmp_path: Path) -> None:
    venvs = tmp_path / "venvs"
    ensure_environment(tiny_runtime, venvs)

    (tiny_runtime.directory(venvs) / environments.STAMP_NAME).unlink()  # install interrupted
    assert not is_up_to_date(tiny_runtime, venvs)
    ensure_environment(tiny_runtime, venvs)
    assert is_up_to_date(tiny_runtime, venvs)

    tiny_runtime.python(venvs).unlink()  # interpreter gone
    assert not is_up_to_date(tiny_runtime, venvs)
    ensure_environment(tiny_runtime, venvs)
    assert is_up_to_date(tiny_runtime, venvs)


def test_a_changed_lock_makes_the_environment_stale(tiny_runtime: Runtime, tmp_path: Path) -> None:
    venvs = tmp_path / "venvs"
    ensure_environment(tiny_runtime, venvs)
    tiny_runtime.lock_file.write_text("pip\n# a new pin\n")
    assert not is_up_to_date(tiny_runtime, venvs)


def test_a_failed_install_leaves_no_stamp_and_says_how_to_retry(tiny_runtime: Runtime, tmp_path: Path) -> None:
    venvs = tmp_path / "venvs"
    tiny_runtime.lock_file.write_text("this is not a requirement !!\n")
    with pytest.raises(EnvironmentSetupFailed, match="Run the same command again"):
        ensure_environment(tiny_runtime, venvs)
    assert not (tiny_runtime.directory(venvs) / environments.STAMP_NAME).exists()


def test_a_runtime_whose_python_is_missing_fails_with_the_version(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    lock.write_text("pip\n")
    with pytest.raises(InterpreterNotFound, match=r"Python 2\.9 was not found"):
        ensure_environment(Runtime(name="old", python_version="2.9", lock_file=lock), tmp_path / "venvs")
