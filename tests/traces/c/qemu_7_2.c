// EXPECT: qemu-7.2 (migration/migration.c @ 6f39c90b, pasted verbatim from the facts sheet 1(a))
static bool migration_needs_multiple_sockets(void)
{
    return migrate_use_multifd() || migrate_postcopy_preempt();
}

void migration_ioc_process_incoming(QIOChannel *ioc, Error **errp)
{
    ...
    if (!mis->from_src_file) {
        /* The first connection (multifd may have multiple) */
        f = qemu_file_new_input(ioc);

        if (!migration_incoming_setup(f, errp)) {
            return;
        }
        ...
        start_migration = !migration_needs_multiple_sockets();
    } else {
        /* Multiple connections */
        assert(migration_needs_multiple_sockets());
        if (migrate_use_multifd()) {
            start_migration = multifd_recv_new_channel(ioc, &local_err);
        } else {
            assert(migrate_postcopy_preempt());
            f = qemu_file_new_input(ioc);
            start_migration = postcopy_preempt_new_channel(mis, f);
        }
        if (local_err) {
            error_propagate(errp, local_err);
            return;
        }
    }

    if (start_migration) {
        /* If it's a recovery, we're done */
        if (postcopy_try_recover()) {
            return;
        }
        migration_incoming_process();
    }
}
