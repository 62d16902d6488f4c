from django.urls import path

from .views import create, drift, editor, graph, locks, revisions, runs, stacks, state

stack = "t/<slug:slug>/stacks/<slug:stack_name>/"

urlpatterns = [
    path("t/<slug:slug>/", stacks.tenant_home, name="tenant_home"),
    path("t/<slug:slug>/stacks/new/", create.new_stack, name="stack_new"),
    path(stack, stacks.stack_detail, name="stack_detail"),
    path(stack + "edit/", editor.stack_editor, name="stack_editor"),
    path(stack + "edit/validate/", editor.validate_draft, name="stack_validate"),
    path(stack + "edit/save/", editor.save_draft, name="stack_save"),
    path(stack + "edit/discard/", editor.discard_draft, name="stack_discard"),
    path(stack + "edit/files/add/", editor.add_file, name="stack_file_add"),
    path(stack + "edit/files/rename/", editor.rename_file, name="stack_file_rename"),
    path(stack + "edit/files/delete/", editor.delete_file, name="stack_file_delete"),
    path(stack + "upload/", create.upload_revision, name="stack_upload"),
    path(stack + "graph/", graph.stack_graph, name="stack_graph"),
    path(stack + "runs/", runs.run_list, name="run_list"),
    path(stack + "runs/new/", runs.queue_run, name="run_queue"),
    path("t/<slug:slug>/runs/<str:uid>/", runs.run_detail, name="run_detail"),
    path("t/<slug:slug>/runs/<str:uid>/apply/", runs.apply_run, name="run_apply"),
    path("t/<slug:slug>/runs/<str:uid>/approve/", runs.approve_run, name="run_approve"),
    path("t/<slug:slug>/runs/<str:uid>/cancel/", runs.cancel_run, name="run_cancel"),
    path("t/<slug:slug>/runs/<str:uid>/save-state/", runs.save_state_again, name="run_save_state"),
    path(
        "t/<slug:slug>/runs/<str:uid>/discard-state/",
        runs.discard_kept_state,
        name="run_discard_state",
    ),
    path(stack + "state/<slug:environment>/", state.state_history, name="state_history"),
    path(stack + "state/<slug:environment>/diff/", state.state_diff, name="state_diff"),
    path(
        stack + "state/<slug:environment>/v/<str:version_id>/",
        state.state_version,
        name="state_version",
    ),
    path(
        stack + "state/<slug:environment>/v/<str:version_id>/restore/",
        state.state_restore,
        name="state_restore",
    ),
    path("t/<slug:slug>/locks/", locks.tenant_locks, name="tenant_locks"),
    path("locks/", locks.platform_locks, name="platform_locks"),
    path(stack + "locks/<slug:environment>/lock/", locks.lock_environment, name="lock_environment"),
    path(
        stack + "locks/<slug:environment>/unlock/",
        locks.unlock_environment,
        name="unlock_environment",
    ),
    path(stack + "locks/<slug:environment>/force-unlock/", locks.force_unlock, name="force_unlock"),
    path(stack + "drift/<slug:environment>/check/", drift.check_drift, name="check_drift"),
    path("t/<slug:slug>/settings/drift/", drift.drift_schedule, name="drift_schedule"),
    path(stack + "revisions/", revisions.revision_list, name="revision_list"),
    path(stack + "revisions/diff/", revisions.revision_diff, name="revision_diff"),
    path(stack + "revisions/<int:number>/", revisions.revision_detail, name="revision_detail"),
    path(
        stack + "revisions/<int:number>/restore/",
        revisions.restore_revision,
        name="revision_restore",
    ),
]
