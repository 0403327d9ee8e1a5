"""Views declared once: what each is built from, and when its cached value goes stale.

Each view of PrinterState is one `View(builder, *inputs)` in the class body, its inputs in the
order of the builder's parameters: top-level report fields (plain strings) first, then
`path()`s into nested objects, `present()` checks, `state_value()`s and other views.
Everything else follows from that one declaration: the report keys that make the view stale
(its own and those of the views it reads), whether a get_version reply does, the cached
attribute, and the list of public views.

A view is a non-data descriptor: its first read builds it and stores the result in the
instance's `__dict__`, where later reads find it without running any Python code. A report
changing one of its keys removes that entry; the next read gathers the inputs again (with a
function generated from the declaration) and calls the builder only if they differ from those
of the last build, so a view whose inputs did not really change keeps its identity.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter, is_not
from typing import Any, Protocol, Self, cast, overload

# Reads one input from the state. Each is at most one Python call: this runs for every
# stale view after every report.
type Reader = Callable[[Any], Any]
# A view's last build, updated in place: [inputs, view]; inputs None before the first.
type Build = list[Any]


class ViewHost(Protocol):
    """What a class holding views keeps: the merged report and each view's last build."""

    _print: dict[str, Any]
    _built: list[Build]  # by view index


@dataclass(frozen=True, slots=True)
class Input:
    """A view input other than a top-level field: how to read it and what changes it."""

    read: Reader
    keys: frozenset[str] = frozenset()  # top-level report keys whose change may change it
    uses_versions: bool = False  # whether a get_version reply may change it
    uses_new_fields: bool = False  # whether a new top-level field may change it


def path(field: str, key: str) -> Input:
    """Read a value inside a top-level object, e.g. `path("ams", "tray_now")`."""

    def read(state: ViewHost) -> Any:
        value = state._print.get(field)
        return value.get(key) if type(value) is dict else None

    return Input(read, frozenset({field}))


def present(field: str) -> Input:
    """Check whether the report has a top-level field at all, whatever its value.

    Top-level fields are never removed, so only a report adding a field can change this.
    """

    def read(state: ViewHost) -> bool:
        return field in state._print

    return Input(read, uses_new_fields=True)


def state_value(read: Reader, *, keys: Iterable[str] = (), versions: bool = False) -> Input:
    """Read a value the state keeps itself; `keys` and `versions` say what changes it."""
    return Input(read, frozenset(keys), versions)


class View[T]:
    """One view of the state, declared once: its builder and its inputs, in builder order.

    A stale view is rebuilt when its inputs differ from the last build's. `by_identity`
    compares them by identity instead of value: for a cheap builder over large views (which
    keep their identity while unchanged), where comparing values costs more than building.
    """

    name: str  # the attribute it is declared as
    index: int  # its place in the class's views
    keys: frozenset[str]  # top-level report keys whose change makes it stale
    uses_versions: bool  # whether a get_version reply makes it stale
    uses_new_fields: bool  # whether a new top-level field makes it stale
    _gather: Callable[[ViewHost], tuple[Any, ...]]  # compiled once it is named

    def __init__(
        self,
        build: Callable[..., T],
        *inputs: "str | Input | View[Any]",
        doc: str,
        by_identity: bool = False,
    ):
        fields: list[str] = []
        others: list[Input | View[Any]] = []
        keys: set[str] = set()
        uses_versions = uses_new_fields = False
        for position, item in enumerate(inputs):
            if isinstance(item, str):
                if position != len(fields):
                    raise TypeError(f"{build.__name__}: plain fields come before other inputs")
                fields.append(item)
                keys.add(item)
            else:
                others.append(item)
                keys |= item.keys
                uses_versions = uses_versions or item.uses_versions
                uses_new_fields = uses_new_fields or item.uses_new_fields
        self.build = build
        self.name = ""
        self.index = -1
        self.keys = frozenset(keys)
        self.uses_versions = uses_versions
        self.uses_new_fields = uses_new_fields
        self.__doc__ = doc
        self._fields = tuple(fields)
        self._others = tuple(others)
        self._by_identity = by_identity

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name
        # Views this one reads were declared (and named) before it.
        readers = [
            attrgetter(item.name) if isinstance(item, View) else item.read for item in self._others
        ]
        self._gather = _compile_gather(self._fields, readers)

    @overload
    def __get__(self, state: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, state: ViewHost, owner: type[Any] | None = None) -> T: ...

    def __get__(self, state: ViewHost | None, owner: type[Any] | None = None) -> T | Self:
        if state is None:
            return self
        # Only reached when the view is not cached in the instance's __dict__.
        inputs = self._gather(state)
        last = state._built[self.index]
        previous = last[0]
        if self._by_identity:
            changed = previous is None or any(map(is_not, previous, inputs))
        else:
            changed = previous != inputs
        if changed:
            last[1] = self.build(*inputs)
            last[0] = inputs
        value: T = last[1]
        state.__dict__[self.name] = value
        return value


def _compile_gather(
    fields: tuple[str, ...], readers: list[Reader]
) -> Callable[[ViewHost], tuple[Any, ...]]:
    """Return a function reading a view's inputs into a tuple, written out as by hand.

    This runs for every stale view after every report, and a generic loop over the inputs
    costs twice what `(get("a"), get("b"), read0(state))` does. So, as dataclasses and
    namedtuple do, the function is generated once, at import: its source holds only the
    view's declared field names (as repr() literals) and calls of its readers.
    """
    items = [f"get({field!r}), " for field in fields]
    items += [f"read{index}(state), " for index in range(len(readers))]
    source = "def gather(state):\n"
    if fields:
        source += "    get = state._print.get\n"
    source += f"    return ({''.join(items)})\n"
    namespace: dict[str, Any] = {f"read{index}": read for index, read in enumerate(readers)}
    exec(source, namespace)  # noqa: S102 - generated from the declarations, never from data
    return cast("Callable[[ViewHost], tuple[Any, ...]]", namespace["gather"])


@dataclass(frozen=True, slots=True)
class ViewTable:
    """What follows from a class's view declarations."""

    names: frozenset[str]  # every view
    count: int
    public: tuple[str, ...]  # the views without a leading underscore
    stale_by_key: Mapping[str, tuple[str, ...]]  # report key -> views it makes stale
    version_views: tuple[str, ...]  # views a get_version reply makes stale
    new_field_views: tuple[str, ...]  # views a new top-level field makes stale

    @classmethod
    def of(cls, owner: type[Any]) -> Self:
        """Collect the views declared in `owner`'s body and number them."""
        views = [value for value in vars(owner).values() if isinstance(value, View)]
        for index, view in enumerate(views):
            view.index = index
        stale: dict[str, list[str]] = {}
        for view in views:
            for key in sorted(view.keys):
                stale.setdefault(key, []).append(view.name)
        return cls(
            names=frozenset(view.name for view in views),
            count=len(views),
            public=tuple(view.name for view in views if not view.name.startswith("_")),
            stale_by_key={key: tuple(names) for key, names in stale.items()},
            version_views=tuple(view.name for view in views if view.uses_versions),
            new_field_views=tuple(view.name for view in views if view.uses_new_fields),
        )

    def no_builds(self) -> list[Build]:
        """Return one empty build record per view, for a new instance."""
        return [[None, None] for _ in range(self.count)]
