"""Tenant isolation, enforced by the session rather than remembered by each query.

Every model with `TenantMixin` belongs to one workspace. A session opened for a team
(`db.session(team_id)`) adds `team_id = :team` to every ORM SELECT, UPDATE and DELETE on
those models (SQLAlchemy's `with_loader_criteria`). A session opened without a team refuses
such queries unless the statement says `.execution_options(all_tenants=True)`, so a
cross-workspace query has to be written on purpose (the scheduler listing subscriptions).
"""

from __future__ import annotations

from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria


class TenantScopeError(RuntimeError):
    """A query touched workspace data without saying which workspace."""


class TenantMixin:
    team_id: Mapped[str] = mapped_column(String(32), nullable=False)


def _is_tenant_query(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantMixin) for mapper in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _scope_to_team(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the parent row was already scoped
    if state.execution_options.get("all_tenants"):
        return
    team_id = state.session.info.get("team_id")
    if team_id is None:
        if _is_tenant_query(state):
            raise TenantScopeError(
                "query on workspace data from a session without a team; "
                "open db.session(team_id) or pass execution_options(all_tenants=True)"
            )
        return
    state.statement = state.statement.options(
        with_loader_criteria(TenantMixin, lambda cls: cls.team_id == team_id, include_aliases=True)
    )
