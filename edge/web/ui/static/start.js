edge.start();
