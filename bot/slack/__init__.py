"""Everything that speaks to Slack's Web API on the app's behalf: the clients (client.py), who people are
(directory.py), conversations (conversations.py), links into a workspace (links.py), and Slack's error
names grouped by what they mean to the app (errors.py). Services never import these; listeners and jobs
hand services the adapters they need."""
