"""The decorators: forms, what they keep of the function, and their errors."""

from __future__ import annotations

import asyncio
import inspect
import re
from typing import Any

import pytest

import penstock
from penstock import DefinitionError, entrypoint, flow, step
from penstock._declared.spec import handle_of


def _spec(fn: Any) -> Any:
    h = handle_of(fn)
    assert h is not None
    return h.spec


def test_bare_and_called_forms_register_the_same_way() -> None:
    """`@step` and `@step()` both declare a step named after the function."""

    @flow("forms")
    @entrypoint
    def start() -> int:
        return 1

    @flow("forms")
    @step
    def bare() -> int:
        return 2

    @flow("forms")
    @step()
    def called() -> int:
        return 3

    g = penstock.get_flow("forms")
    assert [s.name for s in g.steps] == ["start", "bare", "called"]
    assert [s.kind for s in g.steps] == ["entrypoint", "step", "step"]
    assert (start(), bare(), called()) == (1, 2, 3)


def test_flow_written_below_step_works_too() -> None:
    """The decorator order `@step` above `@flow` gives the same registration."""

    @flow("order")
    @entrypoint
    def a() -> None: ...

    @step(after="a")
    @flow("order")
    def b() -> None: ...

    assert [(e.source, e.target) for e in penstock.get_flow("order").edges] == [("a", "b")]


def test_name_and_description_override() -> None:
    """`name=` renames the step; `description=` replaces the docstring summary."""

    @flow("named")
    @entrypoint(name="Receive order", description="Takes an order from the queue")
    def receive() -> None:
        """Ignored summary."""

    node = penstock.get_flow("named").step("Receive order")
    assert node.doc == "Takes an order from the queue"
    assert node.qualname.endswith("receive")


def test_docstring_summary_is_first_paragraph() -> None:
    """Without `description=`, the first docstring paragraph becomes the summary."""

    @flow("docs")
    @entrypoint
    def fetch() -> None:
        """Fetch the part
        from the API.

        Details that stay out of diagrams.
        """

    assert penstock.get_flow("docs").step("fetch").doc == "Fetch the part from the API."


def test_wrapper_keeps_signature_doc_and_wrapped() -> None:
    """inspect sees the original signature; __doc__ and __wrapped__ are kept."""

    def original(a: int, b: str = "x", *, c: float = 1.0) -> str:
        """Doc."""
        return f"{a}{b}{c}"

    wrapped = flow("sig")(entrypoint(original))
    assert inspect.signature(wrapped) == inspect.signature(original)
    assert wrapped.__doc__ == "Doc."
    assert wrapped.__wrapped__ is original  # type: ignore[attr-defined]
    assert wrapped.__name__ == "original"
    assert wrapped(1, c=2.0) == "1x2.0"


def test_async_generators_and_async_generators_keep_their_kind() -> None:
    """Coroutine, generator and async generator functions stay what they were."""

    @flow("kinds")
    @entrypoint
    async def coro(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    @flow("kinds")
    @step(after=coro)
    def gen(n: int) -> Any:
        yield from range(n)
        return "done"

    @flow("kinds")
    @step(after=gen)
    async def agen(n: int) -> Any:
        for i in range(n):
            yield i

    assert inspect.iscoroutinefunction(coro)
    assert inspect.isgeneratorfunction(gen)
    assert inspect.isasyncgenfunction(agen)
    assert asyncio.run(coro(21)) == 42
    g = gen(3)
    assert list(g) == [0, 1, 2]

    def collect_return() -> Any:
        result = yield from gen(2)
        return result

    c = collect_return()
    assert list(c) == [0, 1]

    async def collect() -> list[int]:
        return [i async for i in agen(3)]

    assert asyncio.run(collect()) == [0, 1, 2]


def test_methods_instance_class_and_static() -> None:
    """Steps can be instance, class and static methods, in either decorator order."""

    class Service:
        factor = 10

        @flow("methods")
        @entrypoint
        def handle(self, x: int) -> int:
            return self.convert(x) + self.offset(x)

        @flow("methods")
        @step(after="handle")
        @classmethod
        def convert(cls, x: int) -> int:
            return x * cls.factor

        @staticmethod
        @flow("methods")
        @step(after="handle")
        def offset(x: int) -> int:
            return x + 1

    assert Service().handle(2) == 23
    assert Service.convert(1) == 10
    assert Service.offset(1) == 2
    g = penstock.get_flow("methods")
    assert {s.name for s in g.steps} == {"handle", "convert", "offset"}
    assert g.step("convert").qualname.endswith("Service.convert")


def test_one_function_in_several_flows_with_per_flow_after() -> None:
    """Stacked @flow puts a step in several flows; @flow(after=) overrides per flow."""

    @flow("f1")
    @flow("f2")
    @entrypoint
    def start() -> None: ...

    @flow("f2")
    @entrypoint
    def other_start() -> None: ...

    @flow("f1")
    @flow("f2", after="other_start")
    @step(after="start")
    def shared() -> None: ...

    assert [(e.source, e.target) for e in penstock.get_flow("f1").edges] == [("start", "shared")]
    assert [(e.source, e.target) for e in penstock.get_flow("f2").edges] == [
        ("other_start", "shared")
    ]
    assert _spec(shared).flow_names == ("f1", "f2")


def test_fan_in_with_a_list() -> None:
    """A list in after= declares several predecessors."""

    @flow("fanin")
    @entrypoint
    def a() -> None: ...

    @flow("fanin")
    @step(after="a")
    def b() -> None: ...

    @flow("fanin")
    @step(after=[a, "b"])
    def c() -> None: ...

    edges = [(e.source, e.target) for e in penstock.get_flow("fanin").edges]
    assert edges == [("a", "b"), ("a", "c"), ("b", "c")]


LOCATION = re.compile(r"test_declare\.py:\d+")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "non-empty string"),
        ("   ", "non-empty string"),
        (42, "non-empty string"),
        ("two\nlines", "control character"),
    ],
)
def test_bad_flow_names_fail_with_location(bad: Any, message: str) -> None:
    """An empty, non-string or multi-line flow name raises at once, with file:line."""
    with pytest.raises(DefinitionError, match=message) as info:
        flow(bad)
    assert LOCATION.search(str(info.value))


def test_bare_flow_without_name_explains_itself() -> None:
    """`@flow` without parentheses says how to write it."""
    with pytest.raises(DefinitionError, match=r'write @flow\("my_flow"\)') as info:

        @flow  # type: ignore[arg-type]
        def f() -> None: ...

    assert LOCATION.search(str(info.value))


@pytest.mark.parametrize("bad_after", [42, {"a": 1}, ["ok", 3], [""]])
def test_after_of_the_wrong_type_fails_with_location(bad_after: Any) -> None:
    """after= takes names, functions or lists of them; anything else raises with file:line."""
    with pytest.raises(DefinitionError, match="after=") as info:
        step(after=bad_after)
    assert LOCATION.search(str(info.value))


def test_flow_on_something_not_callable_fails() -> None:
    """@flow on a non-callable names the object and the line."""
    with pytest.raises(DefinitionError, match="must decorate a function") as info:
        flow("x")(42)  # type: ignore[type-var]
    assert LOCATION.search(str(info.value))


def test_same_decorator_twice_and_same_flow_twice_fail() -> None:
    """Stacking @step twice, or the same @flow twice, is a mistake reported with file:line."""

    def f() -> None: ...

    with pytest.raises(DefinitionError, match="twice") as info:
        step(step(f))
    assert LOCATION.search(str(info.value))

    def g() -> None: ...

    with pytest.raises(DefinitionError, match="put in flow 'a' twice"):
        flow("a")(flow("a")(step(g)))


def test_declare_step_is_the_public_way_for_an_integration_decorator() -> None:
    """An integration's own decorator declares a step with a transport, drawn as a hop."""
    import penstock

    def via_queue(func: Any) -> Any:
        return penstock.declare_step(func, decorator="@via_queue", after="start", transport="sqs")

    @flow("queued")
    @entrypoint
    def start() -> None:
        pass

    @flow("queued")
    @via_queue
    def handle() -> None:
        pass

    graph = penstock.get_flow("queued")
    assert graph.step("handle").transport == "sqs"
    assert [(e.source, e.target) for e in graph.edges] == [("start", "handle")]
    assert '-. "sqs" .->' in penstock.generate_dag("queued")


def test_declare_step_refuses_a_function_already_declared() -> None:
    """The integration's decorator goes directly on the function: the error names it."""
    import penstock

    @step
    def twice() -> None:
        pass

    with pytest.raises(DefinitionError, match=r"test_declare\.py:\d+: put @via_queue directly"):
        penstock.declare_step(twice, decorator="@via_queue")


def test_definition_error_at_names_the_line_and_suggests() -> None:
    """DefinitionError.at locates the message at the function and adds a did-you-mean."""

    def handler(message: object, retries: int) -> None:
        pass

    err = DefinitionError.at(handler, "no parameter 'mesage'", unknown="mesage", known=["message"])
    line = handler.__code__.co_firstlineno
    assert str(err).endswith(
        f"test_declare.py:{line}: no parameter 'mesage'; did you mean 'message'?"
    )
