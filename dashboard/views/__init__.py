"""The dashboard pages (scripts run by st.navigation, not imported)."""
