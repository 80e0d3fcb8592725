"""The segmentation stages: prepare, choose K, fit, label, describe."""
