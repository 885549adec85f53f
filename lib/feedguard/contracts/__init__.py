"""Data contracts: the contract model and its YAML files, the Spark schema generated from it, versions and
the registry, compatibility between versions (evolution) and the drift report that proposes the next
version. No Spark job runs here except the drift report's schema inference.
"""
