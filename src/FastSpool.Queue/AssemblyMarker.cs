namespace FastSpool;
internal static class QueueAssemblyMarker;
