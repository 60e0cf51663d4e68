// EXPECT: qemu-10.1 (migration/channel.c @ 7d7bf3e6, the 2026 form, pasted verbatim from the facts sheet 1(e))
static MigChannelType migration_channel_identify(MigrationIncomingState *mis,
                                                 QIOChannel *ioc, Error **errp)
{
    MigChannelType channel = CH_NONE;
    ...
    if (!migration_has_main_and_multifd_channels()) {
        if (qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)) {
            ret = migration_channel_read_peek(ioc, (void *)&channel_magic,
                                              sizeof(channel_magic), errp);
            if (ret != 0) { goto out; }
            channel_magic = be32_to_cpu(channel_magic);
            if (channel_magic == QEMU_VM_FILE_MAGIC) { channel = CH_MAIN; }
            else if (channel_magic == MULTIFD_MAGIC) { assert(migrate_multifd()); channel = CH_MULTIFD; }
            else if (!mis->from_src_file &&
                        mis->state == MIGRATION_STATUS_POSTCOPY_PAUSED) {
                /* reconnect main channel for postcopy recovery */
                channel = CH_MAIN;
            } else { error_setg(errp, "unknown channel magic: %u", channel_magic); }
        } else if (mis->from_src_file && migrate_multifd()) { channel = CH_MULTIFD; }
        else if (!mis->from_src_file) { channel = CH_MAIN; }
        else { error_setg(errp, "non-peekable channel used without multifd"); }
    } else {
        assert(migrate_postcopy_preempt());
        channel = CH_POSTCOPY;
    }
out:
    return channel;
}

void migration_channel_process_incoming(QIOChannel *ioc)
{   ...
    if (migrate_channel_requires_tls_upgrade(ioc)) {
        migration_tls_channel_process_incoming(ioc, &local_err);
    } else {
        migration_ioc_register_yank(ioc);
        ch = migration_channel_identify(mis, ioc, &local_err);
        if (!ch) { goto out; }
        if (migration_incoming_setup(ioc, ch, &local_err)) {
            migration_start_incoming();
        }
    }
out:
    if (local_err) {
        error_report_err(local_err);
        migrate_set_state(&mis->state, mis->state, MIGRATION_STATUS_FAILED);
        if (mis->exit_on_error) { exit(EXIT_FAILURE); }
    }
}

/* migration/migration.c @ 7d7bf3e60e42 (facts sheet 1(e), next block): skipped, not the classifier */
bool migration_incoming_setup(QIOChannel *ioc, uint8_t channel, Error **errp)
{   ...
    if (multifd_recv_setup(errp) != 0) { return false; }
    switch (channel) {
    case CH_MAIN:
        f = qemu_file_new_input(ioc);
        assert(!mis->from_src_file);
        mis->from_src_file = f;
        qemu_file_set_blocking(f, false, &error_abort);
        break;
    case CH_MULTIFD:
        if (!multifd_recv_new_channel(ioc, errp)) { return false; }
        break;
    case CH_POSTCOPY:
        assert(!mis->postcopy_qemufile_dst);
        f = qemu_file_new_input(ioc);
        postcopy_preempt_new_channel(mis, f);
        return false;
    default:
        g_assert_not_reached();
    }
    return migration_has_main_and_multifd_channels();
}

void migration_start_incoming(void)
{
    if (postcopy_try_recover()) { return; }
    Coroutine *co = qemu_coroutine_create(process_incoming_migration_co, NULL);
    qemu_coroutine_enter(co);
}
