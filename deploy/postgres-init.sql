-- The Prefect server's own database next to the application's (same cluster, separate DB).
CREATE DATABASE prefect OWNER incontro;
