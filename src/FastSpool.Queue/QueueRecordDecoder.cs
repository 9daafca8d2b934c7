namespace FastSpool.Queue;

/// <summary>Decodes a record's fields by its type, with the readers recovery uses, and drops the result: for checking
/// records that come from elsewhere (tests, fuzzing). Fields that do not parse throw only
/// <see cref="InvalidDataException"/>, which recovery counts as a damaged record.</summary>
public static class QueueRecordDecoder
{
    public static void Decode(long address, ReadOnlySpan<byte> record, in QueueRecordHeader header)
    {
        ReadOnlySpan<byte> fields = QueueRecord.Fields(record, header);
        switch (header.Type)
        {
            case QueueRecordType.Envelope:
                EnvelopeCodec.Read(address, record, header, out _);
                break;
            case QueueRecordType.RecipientState:
                StateRecords.ApplyRecipientState(fields, new QueuedRecipient { Address = "" });
                break;
            case QueueRecordType.PartDone:
                StateRecords.ReadPartDone(fields, header.Version);
                break;
            case QueueRecordType.Journal:
                StateRecords.ReadJournal(fields, header.Version);
                break;
        }
    }
}
