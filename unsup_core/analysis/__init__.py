"""Understanding a clustering: choosing k, cluster profiles, agreement with labels, exports."""
