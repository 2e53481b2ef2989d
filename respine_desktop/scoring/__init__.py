"""Pure scoring functions: answers to scores (VAS, ODI, SF-36) and RESPINE endpoints."""
