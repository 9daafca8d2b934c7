using FastSpool.Queue;

namespace FastSpool.Queue.Tests;

/// <summary>Records whose checksum is right but whose fields are not (a bug, a foreign writer): every decoder refuses
/// them with <see cref="InvalidDataException"/>, which recovery counts as a damaged record and skips. Anything else
/// would stop the queue from opening. The inputs are what fuzzing the decoders found (fuzz/, queue-record).</summary>
public sealed class QueueRecordDecoderTests
{
    [Fact]
    public void AnEnvelopeWithAnArrivalTimeOutOfRangeIsDamagedNotACrash() => AssertRefused(
        "02020000cf41dc8f341220000000000002000000140000005375626a6563743a20780d0a0d0a626f64790d0a01080000"
        + "0000000004093139322e302e322e31050e636c69656e742e6578616d706c6506116361726f6c406578616d706c652e6f"
        + "72670b05656e7669640c01020710696365406c6f63616c686f7374ff7fff686f737402167266633832323b616c696365"
        + "406c6f63616c686f7374ff7fffff8f8080000107626f62406c6f63616c686f7374081040000000000000000010000000"
        + "0000000d978080000108070000000000000002010103080000000001000000");

    [Fact]
    public void AVersion1EnvelopeThatCountsMoreRecipientsThanItHoldsIsDamagedNotACrash() => AssertRefused(
        "0201ffdecf41dc8f34120000000000000204100014000000357d626a6563743a20000002071404000000190000030100"
        + "0901000409316f737408104040000000000000001000e6ab0000000daa807f00730002fd7266636365406c6f64616c68"
        + "6f7374030106078f8080000100ac0000000daa808000010807020101e4ff00010000");

    [Fact]
    public void ARecipientStateWithATimeOutOfRangeIsDamagedNotACrash() => AssertRefused(
        "06020000a311c4adffffffdf0000f0ff01000303000000000002ff009e80000008341200001800000002080100df5e00"
        + "2000dd000008");

    [Fact]
    public void AVersion1JournalThatCountsMoreEntriesThanItHoldsIsDamagedNotACrash() => AssertRefused(
        "040100020000a311d4ad0000000000000000020000000000000001056c6f63616c020c7061796c6f6164313233343503"
        + "ff80800001083411ffffea0000000208000000000000000003046d626f78039a80800001083412000000000000020801"
        + "0000000000000003046d626f78");

    /// <summary>Reseals the record (as the fuzzing target does, so that the fields are reached) and decodes it with
    /// recovery's readers.</summary>
    private static void AssertRefused(string hex)
    {
        byte[] record = Convert.FromHexString(hex);
        QueueRecord.Seal(record);
        Assert.Equal(RecordCheck.Valid, QueueRecord.Check(record, out QueueRecordHeader header));
        Assert.Throws<InvalidDataException>(() => QueueRecordDecoder.Decode(64, record, header));
    }
}
