// EXPECT: patch-v6 (the hunks as quoted in the review thread, "> > " markers, statements only; __func__ from the hunk header)
> Prasad Pandit <ppandit@redhat.com> writes:
> On Tue, 18 Feb 2025 at 03:20, Fabiano Rosas <farosas@suse.de> wrote:
> > @@ -989,13 +983,12 @@ void migration_ioc_process_incoming(QIOChannel *ioc, Error **errp)
> >      MigrationIncomingState *mis = migration_incoming_get_current();
> >      Error *local_err = NULL;
> >      QEMUFile *f;
> > -    bool default_channel = true;
> > +    uint8_t channel = CH_MAIN;
> >      uint32_t channel_magic = 0;
> >      int ret = 0;
> >
> > -    if (migrate_multifd() && !migrate_mapped_ram() &&
> > -        !migrate_postcopy_ram() &&
> > -        qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)) {
> > +    if (!migration_has_main_and_multifd_channels()) {
> > +        if (qio_channel_has_feature(ioc, QIO_CHANNEL_FEATURE_READ_MSG_PEEK)) {
>> This comment block needs to be indented properly.
>
> * Okay, will fix these.
>
> >          /*
> >           * With multiple channels, it is possible that we receive channels
> >           * out of order on destination side, causing incorrect mapping of
> > @@ -1006,42 +999,58 @@ void migration_ioc_process_incoming(QIOChannel *ioc, Error **errp)
> >           * tls handshake while initializing main channel so with tls this
> >           * issue is not possible.
> >           */
> > -        ret = migration_channel_read_peek(ioc, (void *)&channel_magic,
> > -                                          sizeof(channel_magic), errp);
> > +            ret = migration_channel_read_peek(ioc, (void *)&channel_magic,
> > +                                              sizeof(channel_magic), errp);
> > +            if (ret != 0) {
> > +                return;
> > +            }
> >
> > -        if (ret != 0) {
> > -            return;
> > +            if (channel_magic == cpu_to_be32(QEMU_VM_FILE_MAGIC)) {
> > +                channel = CH_MAIN;
> > +            } else if (channel_magic == cpu_to_be32(MULTIFD_MAGIC)) {
> > +                channel = CH_MULTIFD;
> > +            } else if (!mis->from_src_file
> > +                        && mis->state == MIGRATION_STATUS_POSTCOPY_PAUSED) {
> > +                /* reconnect default channel for postcopy recovery */
> > +                channel = CH_MAIN;
> > +            } else {
> > +                error_report("%s: unknown channel magic: %u",
> > +                              __func__, channel_magic);
> > +                return;
> > +            }
> > +        } else if (mis->from_src_file
> > +                && (!strcmp(ioc->name, "migration-tls-incoming")
> > +                || !strcmp(ioc->name, "migration-file-incoming"))) {
> > +            channel = CH_MULTIFD;
> >          }
> > -
> > -        default_channel = (channel_magic == cpu_to_be32(QEMU_VM_FILE_MAGIC));
> > -    } else {
> > -        default_channel = !mis->from_src_file;
> > +    } else if (mis->from_src_file) {
> > +        channel = CH_POSTCOPY;
> >      }
> >
> >      if (multifd_recv_setup(errp) != 0) {
> >          return;
> >      }
> >
> > -    if (default_channel) {
> > +    if (channel == CH_MAIN) {
> >          f = qemu_file_new_input(ioc);
> >          migration_incoming_setup(f);
> > -    } else {
> > +    } else if (channel == CH_MULTIFD) {
> >          /* Multiple connections */
> > -        assert(migration_needs_multiple_sockets());
> > -        if (migrate_multifd()) {
> > -            multifd_recv_new_channel(ioc, &local_err);
> > -        } else {
> > -            assert(migrate_postcopy_preempt());
> > -            f = qemu_file_new_input(ioc);
> > -            postcopy_preempt_new_channel(mis, f);
> > -        }
> > +        multifd_recv_new_channel(ioc, &local_err);
> >          if (local_err) {
> >              error_propagate(errp, local_err);
> >              return;
> >          }
> > +    } else if (channel == CH_POSTCOPY) {
> > +        f = qemu_file_new_input(ioc);
> > +        postcopy_preempt_new_channel(mis, f);
> > +        return;
> >      }
