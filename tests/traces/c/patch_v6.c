// EXPECT: patch-v6 (the `+` side of v6 2/4, reconstructed from the "> >"-quoted hunks in ../shared/seed/qemu-devel-review-thread.txt)
/*
 * Reconstruction notes. The thread quotes the hunks "@@ -989,13 +983,12 @@" and
 * "@@ -1006,42 +999,58 @@ void migration_ioc_process_incoming(...)" in pieces:
 *  - `uint8_t channel = CH_MAIN;` is the initializer Fabiano Rosas points at ("That
 *    uint8 channel = CH_MAIN up there is doing some heavy-lifting"); the other
 *    declarations are the 10.0 ones it replaced `bool default_channel = true;` among.
 *  - The quote stops after `channel = CH_MULTIFD;` and resumes at the `-` lines and
 *    `+ } else if (mis->from_src_file) {`. Both review points ("No else clause here"
 *    and "Same here") and model/classifiers/patch_v6.h read that `else if` as the
 *    else of `if (!migration_has_main_and_multifd_channels())`, so the `}` that closes
 *    the non-peekable branch, cut from the quote, is restored.
 *  - The comment block is context, shortened; the dispatch after the classification
 *    follows Prasad Pandit's sketch in the same mail.
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
        } else if (mis->from_src_file
                && (!strcmp(ioc->name, "migration-tls-incoming")
                || !strcmp(ioc->name, "migration-file-incoming"))) {
            channel = CH_MULTIFD;
        }
    } else if (mis->from_src_file) {
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
