// EXPECT: qemu-8.0 (migration/migration.c @ 6720c2b3, pasted verbatim from the facts sheet 1(b))
    if (migrate_use_multifd() && !migrate_postcopy_ram() &&
        qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)) {
        /* ... Please note this is best effort, postcopy
         * preempt channel does not send any magic number so avoid it for
         * postcopy live migration. Also tls live migration already does
         * tls handshake while initializing main channel so with tls this
         * issue is not possible. */
        ret = migration_channel_read_peek(ioc, (void *)&channel_magic,
                                          sizeof(channel_magic), &local_err);
        if (ret != 0) { error_propagate(errp, local_err); return; }
        default_channel = (channel_magic == cpu_to_be32(QEMU_VM_FILE_MAGIC));
    } else {
        default_channel = !mis->from_src_file;
    }

    if (multifd_load_setup(errp) != 0) {
        error_setg(errp, "Failed to setup multifd channels");
        return;
    }
    if (default_channel) { f = qemu_file_new_input(ioc); if (!migration_incoming_setup(f, errp)) return; }
    else { assert(migration_needs_multiple_sockets());
           if (migrate_use_multifd()) multifd_recv_new_channel(ioc, &local_err);
           else { assert(migrate_postcopy_preempt()); ... postcopy_preempt_new_channel(mis, f); } ... }

    if (migration_has_all_channels()) {           /* 6720c2b3 */
        if (postcopy_try_recover()) return;
        migration_incoming_process();
    }
