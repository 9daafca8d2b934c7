using FastSpool.Queue;

namespace FastSpool.Fuzz;

/// <summary>Queue records as recovery reads them. The checksum is made right first (the fuzzer would rarely get
/// past it otherwise), so the field decoders see every shape of fields; they may refuse a record only with
/// <see cref="InvalidDataException"/>, which recovery counts as damaged and skips.</summary>
internal static class QueueRecordTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        byte[] record = input.ToArray();
        if (record.Length >= QueueRecord.HeaderSize)
            QueueRecord.Seal(record);
        if (QueueRecord.Check(record, out QueueRecordHeader header) != RecordCheck.Valid)
            return;
        try
        {
            QueueRecordDecoder.Decode(64, record, header);
            var reader = new TlvReader(QueueRecord.Fields(record, header));
            while (reader.Next(out _, out _))
            {
            }
        }
        catch (InvalidDataException)
        {
            // The documented refusal: recovery counts the record as damaged.
        }
    }
}
