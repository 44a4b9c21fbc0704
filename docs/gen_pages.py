"""mkdocs-gen-files script: the model pages and references, generated from the specs at build time.

The logic lives in `zoo.docs`; this file only hands its pages to mkdocs.
"""

import mkdocs_gen_files

from zoo.docs.models import collect, reload_registry
from zoo.docs.pages import generate_pages, site_nav

families = collect(reload_registry())
pages = generate_pages(families=families)
for path, text in pages.items():
    with mkdocs_gen_files.open(path, "w") as f:
        f.write(text)

# The nav is read after this script runs, so the Models entry can list every model.
config = mkdocs_gen_files.config
if config["nav"]:
    config["nav"] = site_nav(config["nav"], families, config["docs_dir"], set(pages))
