"""The Django shell of ctdc: accounts and organisations, submissions, the harmonized store, releases, the
public portal and the API. Views and services here stay thin: the work is done by the pure core packages."""
