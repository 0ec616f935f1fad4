"""Money and time: the replacement planner (HiGHS), funding programmes, incentives, a plan's after-network."""
