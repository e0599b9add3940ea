from locust import HttpUser, task, between


class WebsiteUser(HttpUser):
    wait_time = between(1, 5)
    host = "http://127.0.0.1:8000"

    @task(1)
    def cpu_intensive_task(self):
        self.client.get("/cpu-intensive")

    @task(1)
    def memory_intensive_task(self):
        self.client.get("/memory-intensive")
