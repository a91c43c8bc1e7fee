"""The world a scenario describes, as arrays: countries, facilities and their capacity by date, recipes,
demand, routes and provenance tags. Built from a drawn scenario; knows nothing of SimPy."""
from .calendar import DAYS_PER_YEAR, step_dates
from .facilities import capacity_shares, facility_table
from .network import Network, build_network, covered_routes, items_holding
from .provenance import KINDS, Tags

__all__ = ["DAYS_PER_YEAR", "KINDS", "Network", "Tags", "build_network", "capacity_shares", "covered_routes",
           "facility_table", "items_holding", "step_dates"]
