"""后台任务 (`xinfang worker`): the one background process a deployment needs, outside cases/
because each pass calls several apps (cases, supervision, reports, notify, exports, routing).
"""
