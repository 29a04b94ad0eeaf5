"""The OAuth tables of slack-sdk's SQLAlchemy stores, declared on our metadata so that
Alembic owns them like every other table (the stores' own `create_tables()` is never called).
The OAuth state needs no table: it is signed and kept by the browser (bot/oauth_state.py)."""

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.models.base import Base

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"

installations = SQLAlchemyInstallationStore.build_installations_table(Base.metadata, INSTALLATIONS_TABLE)
bots = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, BOTS_TABLE)
