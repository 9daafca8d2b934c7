namespace FastSpool;
internal static class ServerAssemblyMarker;
