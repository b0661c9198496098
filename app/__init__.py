"""The Netwright desktop application: main window, training controller, dashboards."""
