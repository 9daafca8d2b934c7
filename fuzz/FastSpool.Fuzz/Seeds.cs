using System.Text;
using FastSpool.Protocols.Smtp;
using FastSpool.Queue;

namespace FastSpool.Fuzz;

/// <summary>Starting inputs for afl-fuzz, one directory a target: well-formed examples of each input, so that
/// mutation starts from every branch of the grammar. Queue records are written by the queue's own writers.</summary>
internal static class Seeds
{
    public static void Write(string directory)
    {
        Text(directory, "smtp-command",
            "\x00EHLO client.example\r\nMAIL FROM:<bob@example.org> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=a+2Bb\r\n",
            "\x05RCPT TO:<alice@localhost> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;alice+40localhost\r\nRCPT TO:<Postmaster>\r\n",
            "\x03MAIL FROM:<> SMTPUTF8\r\nRCPT TO:<\"john smith\"@[192.0.2.1]>\r\nBDAT 100 LAST\r\nBDAT 0\r\nDATA\r\nRSET\r\nQUIT\r\n",
            "\x01HELO x\nNOOP\r\nVRFY bob\r\nHELP\r\nSTARTTLS\r\nAUTH PLAIN\r\n");
        Text(directory, "message-text",
            "\x02Subject: hello\r\nReceived: from a\r\n\r\nbody\r\n..dot\r\n.\r\n",
            "\x1bline one\r\nline two\r\n",
            "\xfeReceived: x\r\nreceived: y\r\n\r\n" + new string('x', 30) + "\r\n.\r\n",
            "\x00a\rb\nc\0d\r\n.\r\n");
        Text(directory, "xtext", "alice+2Bbob", "rfc822;alice@example.org", "+2B+3D+20", "plain");
        Text(directory, "aliases",
            "# aliases\npostmaster: root\nroot: alice, \\bob, carol@example.org\nlist: alice,\n  bob\n",
            "\"quoted name\": \"john smith\"@example.org\ncmd: |/bin/true, /tmp/file, :include:/etc/list\n",
            " orphan continuation\nbad name!: x\ndup: a\ndup: b\n");
        QueueRecords(Path.Combine(directory, "queue-record"));
    }

    private static void Text(string directory, string target, params string[] seeds)
    {
        string folder = Path.Combine(directory, target);
        Directory.CreateDirectory(folder);
        for (int i = 0; i < seeds.Length; i++)
            File.WriteAllBytes(Path.Combine(folder, $"seed{i}"), Encoding.Latin1.GetBytes(seeds[i]));
    }

    private static void QueueRecords(string folder)
    {
        Directory.CreateDirectory(folder);
        var id = new QueueId(0x1234);
        var recipients = new RecipientList();
        recipients.Add("alice@localhost"u8, "rfc822;alice@localhost"u8, DsnNotify.Success | DsnNotify.Failure);
        recipients.Add("bob@localhost"u8);
        var envelope = new SubmissionEnvelope
        {
            Sender = "carol@example.org"u8,
            Recipients = recipients,
            ClientAddress = "192.0.2.1"u8,
            ClientHelo = "client.example"u8,
            EnvelopeId = "envid"u8,
            Return = DsnReturn.Headers,
            Reports = new DeliveryReport(new QueueId(7), DeliveryReportKind.Failure, [0, 1]),
        };
        long[] chunks = [64, 4096];
        byte[] body = "Subject: x\r\n\r\nbody\r\n"u8.ToArray();
        byte[] record = new byte[QueueRecord.HeaderSize + body.Length + EnvelopeCodec.FieldsSize(envelope, chunks.Length)];
        body.CopyTo(record, QueueRecord.HeaderSize);
        Save(folder, "envelope", record.AsSpan(0, EnvelopeCodec.Write(record, id, DateTimeOffset.UnixEpoch, body.Length, envelope, chunks, body.Length)));

        var reply = new DeliveryReply(451, "4.2.0", "mailbox locked");
        record = new byte[StateRecords.RecipientStateSize(reply)];
        Save(folder, "state", record.AsSpan(0, StateRecords.WriteRecipientState(record, id, 1, RecipientStatus.Deferred, DateTimeOffset.UnixEpoch, 3, DateTimeOffset.UnixEpoch.AddHours(1), reply)));
        record = new byte[StateRecords.PartDoneSize("mbox")];
        Save(folder, "part-done", record.AsSpan(0, StateRecords.WritePartDone(record, id, 0, "mbox")));
        JournalEntry[] entries = [new(id, 0, "mbox"), new(id, 1, "mbox")];
        record = new byte[StateRecords.JournalSize("local", 12, entries)];
        Save(folder, "journal", record.AsSpan(0, StateRecords.WriteJournal(record, "local", "payload12345"u8, entries)));
        record = new byte[StateRecords.ControlSize("admin")];
        Save(folder, "control", record.AsSpan(0, StateRecords.WriteControl(record, id, MessageControlAction.Hold, DateTimeOffset.UnixEpoch, "admin")));
        record = new byte[StateRecords.RemovedSize("finished")];
        Save(folder, "removed", record.AsSpan(0, StateRecords.WriteRemoved(record, id, "finished")));
    }

    private static void Save(string folder, string name, ReadOnlySpan<byte> record)
    {
        File.WriteAllBytes(Path.Combine(folder, name), record.ToArray());
        // The same record in format version 1, so that the old readers are reached too (the target reseals it).
        byte[] old = record.ToArray();
        old[1] = 1;
        File.WriteAllBytes(Path.Combine(folder, name + "-v1"), old);
    }
}
