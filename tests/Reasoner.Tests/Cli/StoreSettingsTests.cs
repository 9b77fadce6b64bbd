using Reasoner.Generation;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Storage;

namespace Reasoner.Tests.Cli;

public class StoreSettingsTests
{
    [Fact]
    public void SettingsBecomeTheWritersFlushPolicyAndSegmentLimit()
    {
        var options = new StoreSettings { FlushEveryRecords = 10, FlushIntervalSeconds = 2.5, Fsync = false, SegmentMaxMegabytes = 3 }.ToWriterOptions("w1");
        Assert.Equal("w1", options.WriterId);
        Assert.Equal(3L << 20, options.SegmentSizeLimit);
        Assert.Equal(new FlushPolicy { EveryRecords = 10, Interval = TimeSpan.FromSeconds(2.5), ToDisk = false }, options.Flush);
        Assert.Null(new StoreSettings { FlushIntervalSeconds = 0 }.ToWriterOptions().Flush.Interval);
    }

    [Theory]
    [InlineData(0, 64)]
    [InlineData(1, 0)]
    public void NonsenseValuesAreRejectedByName(int everyRecords, int megabytes)
    {
        var e = Assert.Throws<ArgumentException>(() => new StoreSettings { FlushEveryRecords = everyRecords, SegmentMaxMegabytes = megabytes }.ToWriterOptions());
        Assert.StartsWith("Store:", e.Message);
    }
}
