"""Our categories beside the CRM's services: which category is filed as which service, which are
not filed at all, and what a mapped service asks that the catalog does not answer.

Pure: the catalog's categories and what the CRM said (`services.{fmt}` and the definitions of
the mapped services that have attributes) in, a `ServiceMap` out. `socialbot open311 services`
prints it, `socialbot doctor` fails on its problems, the forwarder files with `service_rules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from socialbot.catalog import Catalog, Category
from socialbot.open311.form import ServiceRule
from socialbot.open311.wire import Service, ServiceDefinition


def service_rules(catalog: Catalog) -> dict[str, ServiceRule]:
    """How each mapped category is filed, by category key; a category without an
    `open311_service_code` is not among them (it is never sent)."""
    return {
        category.key: ServiceRule(
            service_code=category.open311_service_code,
            attributes=dict(category.open311_attributes),
        )
        for category in catalog.categories
        if category.open311_service_code is not None
    }


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """One service of the CRM, and the categories filed as it. `missing`: its required
    attributes that some of those categories give no value for."""

    code: str
    name: str
    group: str | None
    metadata: bool
    categories: tuple[str, ...]
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing `doctor` fails on: a category mapped to a code the CRM does not list, or a
    required attribute of its service the category has no value for (`attribute`)."""

    category: str
    service_code: str
    attribute: str | None = None

    def describe(self) -> str:
        if self.attribute is None:
            return (
                f"category {self.category!r}: open311_service_code {self.service_code!r} is not "
                "among the CRM's services (see `socialbot open311 services`)"
            )
        return (
            f"category {self.category!r}: service {self.service_code!r} requires attribute "
            f"{self.attribute!r}; give it a value in its open311_attributes"
        )


@dataclass(frozen=True, slots=True)
class ServiceMap:
    """The CRM's services in its order with our categories beside them, the categories we do
    not send, and the problems to fix."""

    services: tuple[ServiceRow, ...]
    unmapped: tuple[str, ...]  # category keys without an open311_service_code
    problems: tuple[Problem, ...]


def wanted_definitions(catalog: Catalog, services: Sequence[Service]) -> list[str]:
    """The codes whose definition (`services/{code}.{fmt}`) the comparison needs: the mapped
    services that say they have attributes (`metadata`), each once, in the CRM's order."""
    mapped = {c.open311_service_code for c in catalog.categories}
    return [s.code for s in services if s.metadata and s.code in mapped]


def compare_services(
    catalog: Catalog,
    services: Sequence[Service],
    definitions: Mapping[str, ServiceDefinition],
) -> ServiceMap:
    """`catalog` beside `services`, with the `definitions` of the services that have them."""
    by_code: dict[str, list[Category]] = {}
    for category in catalog.categories:
        if category.open311_service_code is not None:
            by_code.setdefault(category.open311_service_code, []).append(category)
    listed = {service.code for service in services}
    problems: list[Problem] = [
        Problem(category.key, code)
        for code, categories in by_code.items()
        if code not in listed
        for category in categories
    ]
    rows: list[ServiceRow] = []
    for service in services:
        mine = by_code.get(service.code, [])
        definition = definitions.get(service.code)
        missing: list[str] = []
        if definition is not None:
            for category in mine:
                given = {code for code, _ in category.open311_attributes}
                for attribute in definition.required:
                    if attribute.code not in given:
                        problems.append(Problem(category.key, service.code, attribute.code))
                        missing.append(attribute.code)
        rows.append(
            ServiceRow(
                code=service.code,
                name=service.name,
                group=service.group,
                metadata=service.metadata,
                categories=tuple(c.key for c in mine),
                missing=tuple(dict.fromkeys(missing)),
            )
        )
    return ServiceMap(
        services=tuple(rows),
        unmapped=tuple(c.key for c in catalog.categories if c.open311_service_code is None),
        problems=tuple(problems),
    )
