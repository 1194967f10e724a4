"""Map: every embedded article as a point (PCA of its embedding), coloured by tag, story or source; hover shows
the title, a click opens the article. Articles close on the map read alike to the model.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import data
from dashboard.cards import open_selected_article
from dashboard.projection import NO_STORY, OTHER_TAG, article_map

COLOUR_BY = {"tag": "Tag", "story": "Story", "source": "Source"}
MAX_POINTS = 5000  # the newest ones; more points than this make the browser sluggish and the picture a blur

st.title("Map", anchor=False)
database = data.database_url()
points_map = article_map(database, data.service().model_key, MAX_POINTS)
if points_map is None:
    st.info("Fewer than three articles are embedded. Build the index with `newsagg index`.")
    st.stop()

colour = st.segmented_control("Colour by", list(COLOUR_BY), format_func=COLOUR_BY.get, default="tag",
                              key="map_colour") or "tag"
points = points_map.points
fig = px.scatter(
    points, x="x", y="y", color=colour, hover_name="title", custom_data=["article_id"],
    hover_data={"x": False, "y": False, "source": True, "published": "|%Y-%m-%d", "tag": colour == "tag",
                "story": colour == "story"},
    # the catch-all groups in grey, so the real groups stand out
    color_discrete_map={NO_STORY: "#c8c8c8", OTHER_TAG: "#c8c8c8"},
    labels={"x": f"PC1 ({points_map.explained[0]:.0%} of variance)",
            "y": f"PC2 ({points_map.explained[1]:.0%} of variance)"},
)
fig.update_traces(marker={"size": 9, "opacity": 0.85})
fig.update_layout(height=640, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                  showlegend=colour != "story" or points["story"].nunique() <= 25)
st.caption(f"{len(points)} articles. Hover for the title; click a point to open the article.")
open_selected_article(st.plotly_chart(fig, on_select="rerun", selection_mode="points", key="map_chart"))
