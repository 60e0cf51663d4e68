// EXPECT: patch-v6 with the review's fix: every if has its else (docs/checking-a-patch.md)
/*
 * tests/traces/c/patch_v6.c with the two changes Fabiano Rosas asked for in the
 * seed thread: "We need to define what's supposed to happen whenever the
 * conditionals don't match ... Better to set CH_MAIN explicitly" and "Maybe
 * check migrate_multifd() here and explain in a comment that at the moment, the
 * non-peekable channels happen to be used with multifd only". Nothing is left
 * to the `uint8_t channel = CH_MAIN;` initializer.
 */
void migration_ioc_process_incoming(QIOChannel *ioc, Error **errp)
{
    MigrationIncomingState *mis = migration_incoming_get_current();
    Error *local_err = NULL;
    QEMUFile *f;
    uint8_t channel = CH_MAIN;
    uint32_t channel_magic = 0;
    int ret = 0;

    if (!migration_has_main_and_multifd_channels()) {
        if (qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)) {
        /*
         * With multiple channels, it is possible that we receive channels
         * out of order on destination side, causing incorrect mapping of
         * [...]
         * tls handshake while initializing main channel so with tls this
         * issue is not possible.
         */
            ret = migration_channel_read_peek(ioc, (void *)&channel_magic,
                                              sizeof(channel_magic), errp);
            if (ret != 0) {
                return;
            }

            if (channel_magic == cpu_to_be32(QEMU_VM_FILE_MAGIC)) {
                channel = CH_MAIN;
            } else if (channel_magic == cpu_to_be32(MULTIFD_MAGIC)) {
                channel = CH_MULTIFD;
            } else if (!mis->from_src_file
                        && mis->state == MIGRATION_STATUS_POSTCOPY_PAUSED) {
                /* reconnect default channel for postcopy recovery */
                channel = CH_MAIN;
            } else {
                error_report("%s: unknown channel magic: %u",
                              __func__, channel_magic);
                return;
            }
        } else if (mis->from_src_file && migrate_multifd()) {
            /*
             * Non-peekable channels (tls, file) after main: today they
             * are used with multifd only, so they are multifd channels.
             */
            channel = CH_MULTIFD;
        } else {
            /* the first non-peekable channel is the main channel */
            channel = CH_MAIN;
        }
    } else {
        /* main and all multifd channels are in: this is the preempt channel */
        channel = CH_POSTCOPY;
    }

    if (multifd_recv_setup(errp) != 0) {
        return;
    }

    if (channel == CH_MAIN) {
        f = qemu_file_new_input(ioc);
        migration_incoming_setup(f);
    } else if (channel == CH_MULTIFD) {
        /* Multiple connections */
        multifd_recv_new_channel(ioc, &local_err);
        if (local_err) {
            error_propagate(errp, local_err);
            return;
        }
    } else if (channel == CH_POSTCOPY) {
        f = qemu_file_new_input(ioc);
        postcopy_preempt_new_channel(mis, f);
        return;
    }
}
