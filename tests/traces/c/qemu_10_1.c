// EXPECT: qemu-10.1 (migration/migration.c @ 00f3fcef, pasted verbatim from the facts sheet 1(d))
/* Migration channel types */
enum { CH_MAIN, CH_MULTIFD, CH_POSTCOPY };      /* added at top of file */

static void migration_incoming_setup(QEMUFile *f)
{   ...
    assert(!mis->from_src_file);                  /* was: if (!mis->from_src_file) */
    mis->from_src_file = f;
    qemu_file_set_blocking(f, false);
}

static bool migration_has_main_and_multifd_channels(void)
{
    MigrationIncomingState *mis = migration_incoming_get_current();
    if (!mis->from_src_file) {
        /* main channel not established */
        return false;
    }
    if (migrate_multifd() && !multifd_recv_all_channels_created()) {
        return false;
    }
    /* main and all multifd channels are established */
    return true;
}

void migration_ioc_process_incoming(QIOChannel *ioc, Error **errp)
{
    ...
    if (!migration_has_main_and_multifd_channels()) {
        if (qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)) {
            ret = migration_channel_read_peek(ioc, (void *)&channel_magic,
                                              sizeof(channel_magic), errp);
            if (ret != 0) { return; }
            channel_magic = be32_to_cpu(channel_magic);
            if (channel_magic == QEMU_VM_FILE_MAGIC) {
                channel = CH_MAIN;
            } else if (channel_magic == MULTIFD_MAGIC) {
                assert(migrate_multifd());
                channel = CH_MULTIFD;
            } else if (!mis->from_src_file &&
                        mis->state == MIGRATION_STATUS_POSTCOPY_PAUSED) {
                /* reconnect main channel for postcopy recovery */
                channel = CH_MAIN;
            } else {
                error_setg(errp, "unknown channel magic: %u", channel_magic);
                return;
            }
        } else if (mis->from_src_file && migrate_multifd()) {
            /* Non-peekable channels like tls/file are processed as
             * multifd channels when multifd is enabled. */
            channel = CH_MULTIFD;
        } else if (!mis->from_src_file) {
            channel = CH_MAIN;
        } else {
            error_setg(errp, "non-peekable channel used without multifd");
            return;
        }
    } else {
        assert(migrate_postcopy_preempt());
        channel = CH_POSTCOPY;
    }

    if (multifd_recv_setup(errp) != 0) { return; }

    if (channel == CH_MAIN) {
        f = qemu_file_new_input(ioc);
        migration_incoming_setup(f);
    } else if (channel == CH_MULTIFD) {
        /* Multiple connections */
        multifd_recv_new_channel(ioc, &local_err);
        if (local_err) { error_propagate(errp, local_err); return; }
    } else if (channel == CH_POSTCOPY) {
        assert(!mis->postcopy_qemufile_dst);
        f = qemu_file_new_input(ioc);
        postcopy_preempt_new_channel(mis, f);
        return;
    }

    if (migration_has_main_and_multifd_channels()) {
        /* If it's a recovery, we're done */
        if (postcopy_try_recover()) { return; }
        migration_incoming_process();
    }
}

bool migration_has_all_channels(void)
{
    if (!migration_has_main_and_multifd_channels()) { return false; }
    MigrationIncomingState *mis = migration_incoming_get_current();
    if (migrate_postcopy_preempt() && !mis->postcopy_qemufile_dst) { return false; }
    return true;
}
