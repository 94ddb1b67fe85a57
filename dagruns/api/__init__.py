"""HTTP APIs of the API server: the public REST API and the Execution API (`execution/`)."""
