"""The HTML interface: thin views over the domain functions."""

from .account import bp as account
from .audit import bp as audit
from .board import bp as board
from .channels import bp as channels
from .complainants import bp as complainants
from .drills import bp as drills
from .golive import bp as golive
from .identity import bp as identity
from .imports import bp as imports
from .incidents import bp as incidents
from .reports import bp as reports
from .rollups import bp as rollups
from .settlements import bp as settlements
from .tasks import bp as tasks
from .users import bp as users

blueprints = [account, incidents, board, complainants, imports, reports, tasks, rollups, settlements, audit, channels, users, golive, drills, identity]
