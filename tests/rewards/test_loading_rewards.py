"""`module:function` rewards: plain rewards and factories, where modules are found (installed first, then the
given folders, then the current directory), pickling, and a one-line error for every kind of mistake."""

from __future__ import annotations

import pickle
import sys
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

import rewards
from rewards.loading import BoundReward, import_module, load_reward

SOURCE = '''
import rewards

def brevity(completions, max_chars=10, **kwargs):
    return [1.0 if len(c) <= max_chars else 0.0 for c in completions]

def strict(completions, solution, *, bonus=0.0):
    return [float(c == s) + bonus for c, s in zip(completions, solution)]

def make_prefix(prefix="<answer>", value=1.0):
    def has_prefix(completions, **kwargs):
        return [value if c.startswith(prefix) else 0.0 for c in completions]
    return has_prefix

class Exact:
    def __init__(self, scale=1.0):
        self.scale = scale
        self.__name__ = "exact"
    def __call__(self, completions, solution, **kwargs):
        return [self.scale * (c == s) for c, s in zip(completions, solution)]

def broken_factory():
    raise RuntimeError("no config file")

def returns_number():
    return 3

THRESHOLD = 0.5
'''


@pytest.fixture
def module(tmp_path, monkeypatch):
    """A uniquely named user module in a folder of its own; sys.path and sys.modules are restored after."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    name = f"user_rewards_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "recipe"
    folder.mkdir()
    (folder / f"{name}.py").write_text(SOURCE)
    yield name, folder
    for key in [k for k in sys.modules if k.startswith(name)]:
        del sys.modules[key]


def test_a_plain_reward_without_params_is_returned_as_is(module):
    name, folder = module
    fn = load_reward(f"{name}:brevity", {}, search_paths=[folder])
    assert fn is sys.modules[name].brevity
    assert fn(["short", "far too long"]) == [1.0, 0.0]


def test_a_plain_reward_with_params_keeps_its_name_and_pickles(module):
    name, folder = module
    fn = load_reward(f"{name}:brevity", {"max_chars": 3}, search_paths=[str(folder)])
    assert isinstance(fn, BoundReward) and fn.__name__ == "brevity"
    assert fn(["abc", "abcd"]) == [1.0, 0.0]
    assert pickle.loads(pickle.dumps(fn))(["abcd"]) == [0.0]
    strict = load_reward(f"{name}:strict", {"bonus": 0.5}, search_paths=[folder])
    assert strict(["4", "5"], solution=["4", "4"], bonus=9) == [1.5, 0.5]  # params win over same-named columns


def test_a_loaded_reward_runs_in_a_spawned_worker(module):
    """The folder the module came from is appended to sys.path, which spawned workers inherit."""
    name, folder = module
    fn = load_reward(f"{name}:brevity", {"max_chars": 4}, search_paths=[folder])
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        assert pool.submit(fn, ["abcd", "abcde"]).result(timeout=120) == [1.0, 0.0]


@pytest.mark.parametrize(
    "attribute,params,texts,expected,reward_name",
    [
        ("make_prefix", {}, ["<answer>1", "1"], [1.0, 0.0], "has_prefix"),
        ("make_prefix", {"prefix": "1", "value": 0.5}, ["<answer>1", "1"], [0.0, 0.5], "has_prefix"),
        ("Exact", {"scale": 2.0}, ["4", "5"], [2.0, 0.0], "exact"),  # a class is a factory too
    ],
)
def test_a_factory_is_called_with_the_params(module, attribute, params, texts, expected, reward_name):
    name, folder = module
    fn = load_reward(f"{name}:{attribute}", params, search_paths=[folder])
    assert fn(texts, solution=["4", "4"]) == expected and fn.__name__ == reward_name


def test_rewards_get_resolves_module_function_names(module, monkeypatch):
    name, folder = module
    monkeypatch.chdir(folder)  # rewards.get looks in the current directory
    assert rewards.get(f"{name}:brevity", max_chars=1)(["a", "ab"]) == [1.0, 0.0]
    assert rewards.get("rewards:cosine", max_len=10).__name__ == "cosine"


@pytest.mark.parametrize(
    "spec,params,message",
    [
        ("{m}:brevty", {}, "reward '{m}:brevty': module '{m}' has no attribute 'brevty' (did you mean 'brevity'?)"),
        ("{m}:THRESHOLD", {}, "reward '{m}:THRESHOLD': 'THRESHOLD' is float, not callable"),
        ("{m}:brevity", {"max_char": 3}, "reward '{m}:brevity': unknown parameter(s) max_char (did you mean "
                                         "'max_chars'?); valid parameters: max_chars"),
        ("{m}:strict", {"bonus": 1, "x": 2}, "reward '{m}:strict': unknown parameter(s) x; valid parameters: solution, bonus"),
        ("{m}:make_prefix", {"prefx": "a"}, "reward '{m}:make_prefix': bad parameters for the factory "
                                            "(got an unexpected keyword argument 'prefx')"),
        ("{m}:broken_factory", {}, "reward '{m}:broken_factory': the factory raised RuntimeError: no config file"),
        ("{m}:returns_number", {}, "reward '{m}:returns_number': the factory returned int, not a reward function"),
        ("{m}", {}, "reward '{m}' is not a 'module:function' spec (e.g. 'my_rewards:brevity')"),
        ("{m}:", {}, "reward '{m}:' is not a 'module:function' spec (e.g. 'my_rewards:brevity')"),
        (":brevity", {}, "reward ':brevity' is not a 'module:function' spec (e.g. 'my_rewards:brevity')"),
        ("a:b:c", {}, "reward 'a:b:c' is not a 'module:function' spec (e.g. 'my_rewards:brevity')"),
        ("{m}.py:brevity", {}, "reward '{m}.py:brevity': '{m}.py' is a file name; give the module name, e.g. '{m}'"),
    ],
)
def test_every_mistake_is_one_line_naming_the_spec(module, spec, params, message):
    name, folder = module
    with pytest.raises(ValueError) as err:
        load_reward(spec.format(m=name), params, search_paths=[folder])
    assert str(err.value) == message.format(m=name)


def test_a_missing_module_names_where_it_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as err:
        load_reward("no_such_rewards_module:f", {}, search_paths=[tmp_path / "a", tmp_path])
    assert str(err.value) == (f"reward 'no_such_rewards_module:f': no module named 'no_such_rewards_module' "
                              f"(not installed, and not in {tmp_path.resolve()})")


@pytest.mark.parametrize(
    "source,message",
    [
        ("def f(completions:\n", "importing '{m}' failed: SyntaxError: "),
        ("import not_installed_dependency_xyz\n", "importing '{m}' failed: No module named 'not_installed_dependency_xyz'"),
        ("raise RuntimeError('needs an API key')\n", "importing '{m}' failed: RuntimeError: needs an API key"),
    ],
)
def test_a_module_that_fails_to_import_is_one_line(module, source, message):
    name, folder = module
    (folder / f"{name}.py").write_text(source)
    with pytest.raises(ValueError) as err:
        load_reward(f"{name}:f", {}, search_paths=[folder])
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"reward '{name}:f': " + message.format(m=name))


def test_search_paths_come_before_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    both, cwd_only = (f"{kind}_{uuid.uuid4().hex[:8]}" for kind in ("both", "cwd"))
    for folder, name, value in (("first", both, 1.0), ("cwd", both, 2.0), ("cwd", cwd_only, 3.0)):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / f"{name}.py").write_text(f"def r(completions, **kw):\n    return [{value}] * len(completions)\n")
    monkeypatch.chdir(tmp_path / "cwd")
    try:
        assert load_reward(f"{both}:r", {}, search_paths=[tmp_path / "first"])(["x"]) == [1.0]
        assert load_reward(f"{cwd_only}:r", {}, search_paths=[tmp_path / "first"])(["x"]) == [3.0]
    finally:
        for name in (both, cwd_only):
            sys.modules.pop(name, None)


def test_a_users_file_never_shadows_an_installed_package(tmp_path, monkeypatch):
    """A `rewards.py` (or `json.py`) in the working directory or the recipe's folder is not imported in
    place of the installed package, and loading from that folder does not make it shadow later imports."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "rewards.py").write_text("def brevity(completions, **kw):\n    return [1.0] * len(completions)\n")
    (tmp_path / "json.py").write_text("BROKEN = True\n")
    (tmp_path / "mine_ok.py").write_text("def r(completions, **kw):\n    return [0.0] * len(completions)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # as `python -m`, which puts the working directory first
    with pytest.raises(ValueError) as err:
        load_reward("rewards:brevity", {}, search_paths=[tmp_path])
    assert str(err.value) == ("reward 'rewards:brevity': module 'rewards' has no attribute 'brevity' "
                              "(did you mean 'registry'?); "
                              "the installed 'rewards' is used, not ./rewards.py (rename that file)")
    monkeypatch.delitem(sys.modules, "json")  # restored afterwards
    assert not hasattr(import_module("json", [tmp_path]), "BROKEN")
    assert load_reward("mine_ok:r", {}, search_paths=[tmp_path])(["a"]) == [0.0]
    sys.modules.pop("mine_ok", None)

