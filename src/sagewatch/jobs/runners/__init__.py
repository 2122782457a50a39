"""Runners: where an instance's process runs. ``process`` (this machine, the default) and
``docker`` (an image in a local Docker engine); both start the instance under the agent."""
