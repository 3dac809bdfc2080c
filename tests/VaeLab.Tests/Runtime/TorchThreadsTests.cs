namespace VaeLab.Tests.Runtime;

public class TorchThreadsTests
{
    [Fact]
    public void AScopeSetsTheCountAndPutsTheOneBeforeBackEvenWhenTheCodeInsideChangesIt()
    {
        int before = torch.get_num_threads();
        int other = before == 1 ? 2 : 1;
        using (TorchThreads.Use(other))
        {
            Assert.Equal(other, torch.get_num_threads());
            torch.set_num_threads(3);
        }
        Assert.Equal(before, torch.get_num_threads());
        using (TorchThreads.Keep()) torch.set_num_threads(other);
        Assert.Equal(before, torch.get_num_threads());
        using (TorchThreads.Use(before)) Assert.Equal(before, torch.get_num_threads());   // nothing to change, nothing to undo
        Assert.Equal(before, torch.get_num_threads());
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchThreads.Use(0));
    }
}
