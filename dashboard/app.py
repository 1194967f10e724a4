"""newsagg dashboard — entry point (`newsagg dashboard`, or `streamlit run dashboard/app.py`).

Pages are scripts under views/ registered with st.navigation; the Article page is hidden from the menu because
it is reached through article links (deep link: /article?article=<id>).
"""

import streamlit as st

# An unexpected error shows a generic message in the browser, never a traceback or the exception's text (the
# console log still has them); also set by `newsagg dashboard` and .streamlit/config.toml, this covers any runner.
st.set_option("client.showErrorDetails", "none")
st.set_page_config(page_title="newsagg", page_icon=":material/newspaper:", layout="wide")
# Article links are page links, which cut their label to one line; headlines must wrap to be readable. A constant
# stylesheet of ours (never scraped text) is the only HTML the dashboard writes.
st.html(
    "<style>[data-testid='stPageLink-NavLink'] span, [data-testid='stPageLink-NavLink'] p "
    "{white-space: normal; overflow: visible; text-overflow: clip; height: auto;}</style>"
)

pages = st.navigation(
    {
        "Read": [
            st.Page("views/latest.py", title="Latest", icon=":material/schedule:", url_path="latest", default=True),
            st.Page("views/stories.py", title="Stories", icon=":material/hub:", url_path="stories"),
            st.Page("views/map.py", title="Map", icon=":material/scatter_plot:", url_path="map"),
            st.Page("views/article.py", title="Article", icon=":material/article:", url_path="article",
                    visibility="hidden"),
        ],
        "Operate": [
            st.Page("views/sources.py", title="Sources & crawls", icon=":material/monitoring:", url_path="sources"),
        ],
    }
)
pages.run()
