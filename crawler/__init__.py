"""Crawler package: source registry and Scrapy spiders."""
