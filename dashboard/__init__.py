"""The Streamlit dashboard: `newsagg dashboard` runs `streamlit run dashboard/app.py`.

app.py is the entry (st.navigation); views/ holds one script per page; data.py reads the store and the shared
RelatedService (crawl_stats.py and projection.py for the Sources and Map pages); cards.py draws article links
and cards, and safe_text.py makes scraped text render as text.
"""
